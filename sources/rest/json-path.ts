import { JSONPath } from "jsonpath-plus";

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

/** A copy of `body` with `value` at the dotted `path` (objects created on the way; the input is not changed). */
export function setPath(body: unknown, path: string, value: unknown): Record<string, unknown> {
  // A step that holds no object (absent, a scalar, an array) gets a fresh object: the template is the user's.
  const copyOf = (v: unknown): Record<string, unknown> =>
    (v !== null && typeof v === "object" && !Array.isArray(v) ? { ...(v as Record<string, unknown>) } : {});
  const root = copyOf(body);
  let current = root;
  const steps = path.split(".");
  steps.forEach((step, i) => {
    if (i === steps.length - 1) {
      current[step] = value;
      return;
    }
    const copy = copyOf(current[step]);
    current[step] = copy;
    current = copy;
  });
  return root;
}

/** True for a JSONPath expression (`$.data.items[*]`); other records paths are dotted. */
export function isJsonPath(path: string): boolean {
  return path.startsWith("$");
}

/**
 * Every value a JSONPath expression selects (jsonpath-plus, Goessner syntax; filters run in its "safe"
 * evaluator, never as JavaScript).
 * `exists` tells whether the static part of the path before its first wildcard, filter or recursive
 * descent (`$.data.orders.edges` for `$.data.orders.edges[*].node`) is present in the body: when it is,
 * no match means an empty page; when it is not, the body is not the expected shape.
 */
export function queryJsonPath(body: unknown, path: string):
  { ok: true; matches: unknown[]; exists: boolean } | { ok: false; reason: string } {
  try {
    const matches = JSONPath({ path: path, json: body as object, wrap: true, eval: "safe" }) as unknown[];
    const staticPart = /^[^*?(]*?(?=\.\.|\[\*\]|\.\*|\[\?|\[\(|$)/.exec(path);
    const prefix = staticPart ? staticPart[0] : "$";
    const found = () => (JSONPath({ path: prefix, json: body as object, wrap: true, eval: "safe" }) as unknown[]).length > 0;
    const exists = matches.length > 0 || prefix === "$" || found();
    return { ok: true, matches: matches, exists: exists };
  } catch (error) {
    return { ok: false, reason: `JSONPath ${path} could not be evaluated: ${(error as Error).message}` };
  }
}

/**
 * Nesting steps from the body to one selected record: `$.data.orders.edges[*].node` -> 5; undefined with a
 * recursive descent (`$..node`), whose depth is not fixed.
 */
export function jsonPathSteps(path: string): number | undefined {
  const steps = JSONPath.toPathArray(path).filter((s: string) => s !== "$" && s !== "");
  return steps.includes("..") ? undefined : steps.length;
}
