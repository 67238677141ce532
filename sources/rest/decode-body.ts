/**
 * Bytes of an HTTP body -> text, by the charset the response declares.
 *
 * - The charset comes from `Content-Type: ...; charset=<label>` (RFC 9110 8.3.1); without one the body
 *   is read as UTF-8 (RFC 8259 8.1: JSON exchanged between systems is UTF-8).
 * - Decoding uses Node's WHATWG `TextDecoder` in fatal mode (full ICU), so labels follow the WHATWG
 *   Encoding Standard: `ISO-8859-1` and `latin1` decode as `windows-1252`, as browsers do.
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
    return { ok: true, text: decoder.decode(bytes), charset: charset };
  } catch {
    const declared = charsetOf(contentType) ? "declared" : "default";
    return { ok: false, reason: `body is not valid ${charset} (the ${declared} charset): ${bytes.length} bytes kept undecoded` };
  }
}
