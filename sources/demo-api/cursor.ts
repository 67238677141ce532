/** Opaque cursors: base64url of `v1:<kind>:<position>[:<salt>]`. A salt makes a re-issued cursor differ in text. */
import { HttpError } from "./routes/route";

export function encodeCursor(kind: string, position: number, salt?: string): string {
  return Buffer.from(`v1:${kind}:${position}${salt === undefined ? "" : ":" + salt}`, "utf8").toString("base64url");
}

/** The position and salt of a cursor, or undefined when it is not a valid cursor of this kind. */
export function decodeCursor(kind: string, cursor: string): { position: number; salt: string } | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const parts = Buffer.from(cursor, "base64url").toString("utf8").split(":");
  if (parts.length < 3 || parts.length > 4 || parts[0] !== "v1" || parts[1] !== kind || !/^\d+$/.test(parts[2])) return undefined;
  return { position: Number(parts[2]), salt: parts[3] ?? "" };
}

/** The position of a cursor query value: 0 when absent or empty, 400 when invalid. */
export function cursorPosition(kind: string, value: string | null): number {
  if (value === null || value === "") return 0;
  const decoded = decodeCursor(kind, value);
  if (decoded === undefined) throw new HttpError(400, "invalid cursor");
  return decoded.position;
}

/**
 * A cursor for the same position as `value` but with different text (for empty pages that
 * say more follow), so a client that detects repeated cursors is not fooled.
 */
export function reissueCursor(kind: string, position: number, value: string | null): string {
  const previous = value === null || value === "" ? undefined : decodeCursor(kind, value);
  const n = previous !== undefined && /^e\d+$/.test(previous.salt) ? Number(previous.salt.slice(1)) : 0;
  return encodeCursor(kind, position, "e" + (n + 1));
}
