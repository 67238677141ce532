/** Where in the graph a record failed. */
export type Stage = "fetch" | "parse" | "validate" | "normalize" | "aggregate" | "sink";

/**
 * The one dead-letter envelope (ARCHITECTURE.md). `payload` is the original record or page
 * as a string, secrets removed; `error` is a specific, human-readable reason.
 */
export interface DeadLetter {
  failed_at: string;
  stage: Stage;
  error: string;
  payload: string;
  source: string;
  run_id: string;
  entity: string;
}

/** Dead letters are capped so one huge bad record cannot blow up the error table. */
export const MAX_DEAD_LETTER_PAYLOAD_CHARS = 1_000_000;

export function deadLetter(fields: Omit<DeadLetter, "failed_at" | "payload"> & { payload: unknown; failed_at?: string }): DeadLetter {
  const text = typeof fields.payload === "string" ? fields.payload : JSON.stringify(fields.payload) ?? String(fields.payload);
  return {
    failed_at: fields.failed_at ?? new Date().toISOString(),
    stage: fields.stage,
    error: fields.error,
    payload: text.length > MAX_DEAD_LETTER_PAYLOAD_CHARS ? text.slice(0, MAX_DEAD_LETTER_PAYLOAD_CHARS) + "…[truncated]" : text,
    source: fields.source,
    run_id: fields.run_id,
    entity: fields.entity,
  };
}
