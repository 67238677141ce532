import { decode as iconvDecode } from "iconv-lite";

/**
 * Bytes of an HTTP body -> text, by the charset the response declares.
 *
 * - The charset comes from `Content-Type: ...; charset=<label>` (RFC 9110 8.3.1); without one the body
 *   is read as UTF-8 (RFC 8259 8.1: JSON exchanged between systems is UTF-8).
 * - Decoding uses Node's WHATWG `TextDecoder` in fatal mode (full ICU), so labels follow the WHATWG
 *   Encoding Standard: `ISO-8859-1` and `latin1` decode as `windows-1252`, as browsers do.
 * - Node 20's `TextDecoder("windows-1252")` decodes 0x80-0x9F as C1 controls (Latin-1), not as the
 *   Encoding Standard's `€ ‚ ƒ ...`; that one encoding is decoded with `iconv-lite` instead, and the
 *   five bytes windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) count as undecodable.
 * - A leading UTF-8 BOM is dropped (RFC 8259 8.1 lets parsers ignore it).
 * - Content-Encoding (gzip, deflate, br) is undone by undici's `fetch` before the bytes get here.
 *
 * Never alters a body: bytes that are not valid in the declared charset, or a charset no decoder
 * knows, give a reason naming the charset instead of replacement characters.
 */

export type Decoded = { ok: true; text: string; charset: string } | { ok: false; reason: string };

/** The `charset` parameter of a Content-Type value, lower-cased and unquoted, or undefined. */
export function charsetOf(contentType: string | null | undefined): string | undefined {
  if (!contentType) return undefined;
  const match = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType);
  return match ? match[2].toLowerCase() : undefined;
}

/** Decodes `bytes` by the Content-Type's charset (UTF-8 by default); see the module comment. */
export function decodeBody(bytes: Uint8Array, contentType: string | null | undefined): Decoded {
  const charset = charsetOf(contentType) ?? "utf-8";
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset, { fatal: true });
  } catch {
    return { ok: false, reason: `unsupported charset "${charset}" in Content-Type "${contentType}"` };
  }
  try {
    if (decoder.encoding !== "windows-1252") return { ok: true, text: decoder.decode(bytes), charset: charset };
    const text = iconvDecode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), "windows-1252");
    if (text.includes("\ufffd")) throw new Error("undefined byte");
    return { ok: true, text: text, charset: charset };
  } catch {
    const declared = charsetOf(contentType) ? "declared" : "default";
    return { ok: false, reason: `body is not valid ${charset} (the ${declared} charset): ${bytes.length} bytes kept undecoded` };
  }
}
