/**
 * Special tokens (`<|endoftext|>`, the FIM tokens...) are not learned by BPE: they are registered
 * with fixed ids and matched in the text before splitting. Which of them `encode` may produce:
 *  - "none_raise" (default): none; an Error if one appears in the text (tiktoken's default),
 *  - "all": every registered special token,
 *  - "none": none; they are encoded as ordinary text,
 *  - a set (or array) of names: those; an Error if another registered one appears (tiktoken's
 *    `allowed_special` with the default `disallowed_special="all"`; minbpe instead encodes the
 *    others as ordinary text, which "none" plus a set would express).
 */
export type AllowedSpecial = "none_raise" | "all" | "none" | ReadonlySet<string> | readonly string[];

export interface EncodeOptions {
  allowedSpecial?: AllowedSpecial;
}

/** A piece of text to encode as ordinary text, or the id of a special token. */
export type SpecialSplit = string | number;

/** Cuts `text` at the allowed special tokens, after checking that no disallowed one appears. */
export function splitSpecial(
  text: string,
  specialTokens: ReadonlyMap<string, number>,
  allowedSpecial: AllowedSpecial = "none_raise",
): SpecialSplit[] {
  const allowed = allowedNames(specialTokens, allowedSpecial);
  if (allowedSpecial !== "none") {
    for (const name of specialTokens.keys()) {
      if (!allowed.includes(name) && text.includes(name)) {
        throw new Error(
          `The text contains the special token ${name}, which is not allowed here. Pass ` +
            `{ allowedSpecial: "all" } (or a set with it) to encode it as a special token, or ` +
            `{ allowedSpecial: "none" } to encode it as ordinary text.`,
        );
      }
    }
  }
  if (allowed.length === 0) return [text];
  const parts: SpecialSplit[] = [];
  const regex = specialRegex(allowed);
  let start = 0;
  for (const match of text.matchAll(regex)) {
    if (match.index! > start) parts.push(text.slice(start, match.index));
    parts.push(specialTokens.get(match[0])!);
    start = match.index! + match[0].length;
  }
  if (start < text.length) parts.push(text.slice(start));
  return parts;
}

function allowedNames(specialTokens: ReadonlyMap<string, number>, allowedSpecial: AllowedSpecial): string[] {
  if (allowedSpecial === "all") return [...specialTokens.keys()];
  if (allowedSpecial === "none" || allowedSpecial === "none_raise") return [];
  if (typeof allowedSpecial === "string") {
    throw new Error(`allowedSpecial must be "none_raise", "all", "none" or a set of names, got "${allowedSpecial}"`);
  }
  return [...allowedSpecial].filter((name) => specialTokens.has(name));
}

/** Longest names first, so that a special token that is a prefix of another never cuts it. */
function specialRegex(names: string[]): RegExp {
  const escaped = [...names].sort((a, b) => b.length - a.length).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(escaped.join("|"), "g");
}
