/**
 * Reads a dotted path (`pagination.endCursor`, `items.0.id`) from a parsed JSON body;
 * `""` is the body itself. Missing steps give `undefined`.
 */
export function getPath(body: unknown, path: string): unknown {
  if (path === "") return body;
  let current: unknown = body;
  for (const step of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}
