/**
 * UTF-8 helpers for byte-level tokenizers.
 *
 * Text becomes bytes with UTF-8; a JS string may hold lone surrogates, which have no UTF-8 form:
 * they become U+FFFD (EF BF BD), as TextEncoder does and as tiktoken does for a Python str.
 * Bytes become text with replacement characters for invalid sequences (Python's errors="replace").
 */
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** UTF-8 bytes of `text` (lone surrogates become U+FFFD). */
export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  return out.subarray(0, utf8EncodeInto(text, out));
}

/** Writes the UTF-8 bytes of `text` into `out` (which must hold 3 bytes per UTF-16 unit); returns the length. */
export function utf8EncodeInto(text: string, out: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
      continue;
    }
    if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 63);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const low = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
        out[n++] = 0xf0 | (c >> 18);
        out[n++] = 0x80 | ((c >> 12) & 63);
        out[n++] = 0x80 | ((c >> 6) & 63);
        out[n++] = 0x80 | (c & 63);
        continue;
      }
      c = 0xfffd;
    }
    out[n++] = 0xe0 | (c >> 12);
    out[n++] = 0x80 | ((c >> 6) & 63);
    out[n++] = 0x80 | (c & 63);
  }
  return n;
}

/** Text of UTF-8 bytes; invalid sequences become U+FFFD. A leading BOM is kept. */
export function utf8Decode(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Lower-case hex of each byte, space separated: "e2 82 ac". */
export function bytesHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

const controlChar = /\p{C}/u;

/** A token for humans, as minbpe's render_token: decoded with replacement, control chars escaped (\u000a). */
export function renderToken(bytes: Uint8Array): string {
  let out = "";
  for (const ch of utf8Decode(bytes)) {
    out += controlChar.test(ch) ? `\\u${ch.codePointAt(0)!.toString(16).padStart(4, "0")}` : ch;
  }
  return out;
}
