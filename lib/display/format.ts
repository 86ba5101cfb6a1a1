/** Arrays as one readable line, the way Python prints a list: `[46, 47, 47, 1, 58]`. */

export interface ArrayFormatOptions {
  /** Digits after the point for non-integer numbers (default 4). */
  digits?: number;
  /** Items shown; a longer array keeps its first and last items around an ellipsis (default 100). */
  maxItems?: number;
}

function formatItem(value: number | bigint | string, digits: number): string {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(digits);
  if (typeof value === "bigint") return value.toString();
  return JSON.stringify(value);
}

/**
 * One line for a list or typed array of numbers (or strings, quoted), unlike console.log, which
 * breaks arrays of more than six numbers into a grid.
 */
export function formatArray(values: ArrayLike<number | bigint | string>, options: ArrayFormatOptions = {}): string {
  const digits = options.digits ?? 4;
  const maxItems = Math.max(2, options.maxItems ?? 100);
  const items = Array.from(values, (v) => formatItem(v, digits));
  if (items.length <= maxItems) return `[${items.join(", ")}]`;
  const head = items.slice(0, Math.ceil(maxItems / 2));
  const tail = items.slice(items.length - Math.floor(maxItems / 2));
  return `[${head.join(", ")}, …, ${tail.join(", ")}] (${items.length} items)`;
}
