import type { ResponseAction } from "../../model/source-config";

/**
 * Declarative response actions (dlt `response_actions`, Airbyte error handlers): the first rule whose
 * conditions all hold decides what a response means. See `responseActionSchema` for the fields.
 */

export interface ResponseFacts {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Decoded body text; undefined when it could not be decoded (then `contentMatches` never holds). */
  text: string | undefined;
}

/** Whether one rule holds for a response. */
export function actionMatches(rule: ResponseAction, facts: ResponseFacts): boolean {
  if (rule.status !== undefined) {
    const statuses = Array.isArray(rule.status) ? rule.status : [rule.status];
    if (!statuses.includes(facts.status)) return false;
  }
  if (rule.header !== undefined) {
    const value = facts.headers[rule.header.toLowerCase()];
    if (value === undefined) return false;
    if (rule.equals !== undefined && value.trim() !== rule.equals) return false;
  }
  if (rule.contentMatches !== undefined) {
    if (facts.text === undefined || !new RegExp(rule.contentMatches).test(facts.text)) return false;
  }
  return true;
}

/** The first matching rule, or undefined. */
export function matchResponseAction(rules: readonly ResponseAction[], facts: ResponseFacts): ResponseAction | undefined {
  return rules.find((rule) => actionMatches(rule, facts));
}

/** A short description of a rule for reasons: `{status 404} -> ignore`. */
export function describeAction(rule: ResponseAction): string {
  const parts: string[] = [];
  if (rule.status !== undefined) parts.push(`status ${Array.isArray(rule.status) ? rule.status.join("|") : rule.status}`);
  if (rule.header !== undefined) parts.push(rule.equals !== undefined ? `${rule.header}: ${rule.equals}` : `header ${rule.header}`);
  if (rule.contentMatches !== undefined) parts.push(`body matches /${rule.contentMatches}/`);
  return `response action {${parts.join(", ")}} -> ${rule.action}`;
}
