import type { FieldType } from "./source-config";

/**
 * The schema of one entity: which warehouse column each source key path lands in, with its type.
 * Decided once per entity, persisted beside the watermark (`state/<source>/<entity>.schema.json`)
 * and only ever extended, so a path keeps its column whatever keys a later record has.
 *
 * A path is the record's keys from the top, joined with `.` (`vehicle.id`); a `.` or `\` inside
 * a key is escaped with `\` (`{"a.b": 1}` is the path `a\.b`, `{"a": {"b": 1}}` is `a.b`).
 */

/** Types the pipeline infers for undeclared values (a subset of the declared `FieldType`s). */
export type InferredType = "integer" | "number" | "boolean" | "timestamp" | "string" | "json";

export const INFERRED_TYPES: readonly InferredType[] = ["integer", "number", "boolean", "timestamp", "string", "json"];

export interface SchemaColumn {
  /** Source key path, e.g. `columnName` or `a.b`. */
  path: string;
  /** Warehouse column it lands in, e.g. `column_name_2`. */
  column: string;
  type: FieldType;
  /** The type comes from the entity's `fields`/`dates` declaration (declared types win). */
  declared: boolean;
  /** Variant columns `<column>__v_<type>` holding values of another type (dlt's convention). */
  variants: Partial<Record<InferredType, string>>;
  /** Run that added the path. */
  added_by: string;
}

/** A path that did not get the column its name asks for, because another path holds it. */
export interface SchemaCollision {
  path: string;
  /** The sanitized name the path wanted, e.g. `column_name`. */
  wanted: string;
  column: string;
  /** The path that holds `wanted` (or the reserved column it is, e.g. `_run_id`). */
  taken_by: string;
}

export interface EntitySchema {
  source: string;
  entity: string;
  /** Sorted by path. */
  columns: SchemaColumn[];
  /** Sorted by path. */
  collisions: SchemaCollision[];
  updated_at: string | null;
}

export function emptySchema(source: string, entity: string): EntitySchema {
  return { source: source, entity: entity, columns: [], collisions: [], updated_at: null };
}

/** Largest integer held exactly by a JS number (2^53 - 1), and the int64 range of warehouse integers. */
const INT64_MAX = BigInt("9223372036854775807");
const INT64_MIN = BigInt("-9223372036854775808");

/**
 * ISO-8601 date-time with seconds and an explicit zone (`Z` or `+hh:mm`), e.g.
 * `2024-03-30T10:00:00Z`. Zone-less and date-only strings stay strings: their instant is unknown.
 */
/**
 * Numbers sent as JSON text (`"52.5"`, `"7"`), canonical only: no leading zeros (`"007"`, `"0612..."`
 * stay text), no exponent, at most 15 significant digits so the double holds the text exactly.
 */
const DECIMAL_TEXT = /^-?(0|[1-9]\d*)\.\d+$/;
const INTEGER_TEXT = /^-?(0|[1-9]\d*)$/;
const significantDigits = (text: string): number => text.replace(/[-.]/g, "").replace(/^0+/, "").length;

/** `"7"`, `"-12"`: an integer sent as text that a double holds exactly (<= 15 digits). */
export function isIntegerText(value: unknown): value is string {
  return typeof value === "string" && INTEGER_TEXT.test(value) && significantDigits(value) <= 15;
}

/**
 * Observation bit of integer text (`"7"`), beside the `typeBit`s: such a path is an ID or a code
 * (text) unless its other values are numbers (`"52.5"`, `7.25`), then it is a number (see `observedType`).
 */
export const INTEGER_TEXT_BIT = 1 << 6;

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The inferred type of one JSON value, or undefined for null. Integers beyond 2^53 arrive as
 * exact decimal strings (the project's JSON contract) and infer as `integer` when they fit int64;
 * zoned ISO date-times infer as `timestamp`; decimal text (`"52.5"`, <= 15 significant digits, no
 * leading zeros) as `number`; integer text (`"123"`) stays `string` here - IDs and codes are text -
 * and is decided per path by `observedType`; objects and arrays infer as `json`.
 *
 * @example inferType(3) // "integer"
 * @example inferType("9007199254740993") // "integer"
 * @example inferType("2024-01-01T00:00:00Z") // "timestamp"
 */
export function inferType(value: unknown): InferredType | undefined {
  if (value === null || value === undefined) return undefined;
  switch (typeof value) {
    case "boolean":
      return "boolean";
    case "number":
      return Number.isSafeInteger(value) ? "integer" : "number";
    case "string": {
      // Every non-string type below starts with a digit or "-": other text is a string at once.
      const first = value.charCodeAt(0);
      if (first !== 45 && !(first >= 48 && first <= 57)) return "string";
      if (/^-?[1-9]\d{15,18}$/.test(value)) {
        const big = BigInt(value);
        const abs = big < BigInt(0) ? -big : big;
        if (abs > BigInt(Number.MAX_SAFE_INTEGER) && big <= INT64_MAX && big >= INT64_MIN) return "integer";
      }
      if (DECIMAL_TEXT.test(value) && significantDigits(value) <= 15) return "number";
      return ISO_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value)) ? "timestamp" : "string";
    }
    default:
      return "json";
  }
}

/**
 * One type for all the types a path showed in a run, whatever their order: integer and number
 * make number, anything with json makes json, other mixes make string.
 */
export function widenTypes(types: Iterable<InferredType>): InferredType | undefined {
  const set = new Set(types);
  if (set.size === 0) return undefined;
  if (set.size === 1) return [...set][0];
  if (set.has("json")) return "json";
  if (set.size === 2 && set.has("integer") && set.has("number")) return "number";
  return "string";
}

/**
 * The type of a path from its run's observation mask: the widened `typesOf`, where integer text
 * (`INTEGER_TEXT_BIT`) counts as `integer` when the path's other values were all numbers (real or
 * decimal text: `"52.5"` and `"7"` make `number`, `3` and `"4"` make `integer`) and as `string`
 * otherwise (`"123"` alone stays text: IDs and codes). Undefined when only nulls were seen.
 */
export function observedType(mask: number): InferredType | undefined {
  const types = typesOf(mask);
  if ((mask & INTEGER_TEXT_BIT) === 0) return widenTypes(types);
  const numeric = types.length > 0 && types.every((t) => t === "number" || t === "integer");
  return widenTypes([...types, numeric ? "integer" : "string"]);
}

/**
 * Whether a value of type `actual` lands in a column of type `column` without a type change:
 * integers fit number columns, every scalar fits a string column (written as text), anything
 * fits a json column.
 */
export function fitsType(actual: InferredType, column: FieldType): boolean {
  if (actual === column || column === "json") return true;
  if (column === "number") return actual === "integer";
  if (column === "string") return actual !== "json";
  return false;
}

/**
 * A value made to fit the column type `fitsType` accepted: scalars in string columns become text,
 * number text in a number or integer column becomes the number (exact: at most 15 digits; larger
 * integer text stays the exact decimal string the warehouse casts).
 */
export function coerceValue(value: unknown, column: FieldType): unknown {
  if (column === "string" && typeof value !== "string" && value !== null) return String(value);
  if (typeof value === "string" && (column === "number" || column === "integer") && (isIntegerText(value) || inferType(value) === "number")) {
    return Number(value);
  }
  return value;
}

/** Bit per inferred type: a run's observations of a path are OR-ed masks, combined in any order. */
export function typeBit(type: InferredType): number {
  return TYPE_BITS[type];
}

const TYPE_BITS = Object.fromEntries(INFERRED_TYPES.map((t, i) => [t, 1 << i])) as Record<InferredType, number>;

export function typesOf(mask: number): InferredType[] {
  return INFERRED_TYPES.filter((t) => (mask & typeBit(t)) !== 0);
}
