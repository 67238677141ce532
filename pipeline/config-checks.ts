import { IANAZone } from "luxon";
import { isSupportedCountry } from "libphonenumber-js";
import { LINEAGE_COLUMNS } from "../model/row";
import type { EntityConfig, SourceConfig } from "../model/source-config";

/**
 * Semantic checks of loaded configs, run before anything is fetched (the schema checks shapes;
 * these check meaning). Each finding names its key path (`<source>.entities.<e>.<key>`).
 *
 * Errors (the run does not start): a time zone luxon does not know as IANA; a phone region
 * libphonenumber-js does not support (`ZZ`); two sources of one run with an entity of the same
 * name (they would land in the same lake/hub tables and overwrite each other's rows by primary
 * key) unless every one of them declares `sharedTable: true`.
 *
 * Errors too: a serving column that is not a landed column name (it can never match).
 *
 * Warnings (printed, the run goes on): a field named by primaryKey, orderBy, eventDate, an
 * aggregate, the serving rowKey or a date's zoneBy that is not declared - not in
 * `fields`, `dates`, `phones` (nor their `_e164`/`_valid` outputs) or lineage. Only for entities
 * that declare `fields`: undeclared columns still land, so this is a likely typo, not a certainty;
 * a key that names nothing is then caught by the outcome rules (everything dead-lettered).
 * `explode` and serving columns name data columns that often stay undeclared: not warned about.
 */
export interface ConfigFindings {
  errors: string[];
  warnings: string[];
}

export function checkSources(sources: readonly SourceConfig[]): ConfigFindings {
  const findings: ConfigFindings = { errors: [], warnings: [] };
  for (const source of sources) {
    for (const entry of Object.entries(source.entities)) checkEntity(`${source.name}.entities.${entry[0]}`, entry[1], findings);
  }
  const owners = new Map<string, SourceConfig[]>();
  for (const source of sources) {
    for (const name of Object.keys(source.entities)) owners.set(name, [...(owners.get(name) ?? []), source]);
  }
  for (const entry of owners) {
    const list = entry[1];
    if (list.length < 2 || list.every((s) => s.entities[entry[0]].sharedTable)) continue;
    const where = list.map((s) => `${s.name}.entities.${entry[0]}`).join(" and ");
    findings.errors.push(
      `${where}: land in the same tables (lake.${entry[0]}, hub.${entry[0]}) and would overwrite each other's rows; ` +
        "rename one, or declare sharedTable: true on each",
    );
  }
  return findings;
}

function checkEntity(at: string, entity: EntityConfig, findings: ConfigFindings): void {
  const zone = (where: string, value: string) => {
    if (!IANAZone.isValidZone(value)) findings.errors.push(`${where}: ${JSON.stringify(value)} is not an IANA time zone (e.g. Europe/Rome, UTC)`);
  };
  for (const entry of Object.entries(entity.dates)) {
    zone(`${at}.dates.${entry[0]}.zone`, entry[1].zone);
    for (const z of Object.entries(entry[1].zoneBy?.zones ?? {})) zone(`${at}.dates.${entry[0]}.zoneBy.zones.${z[0]}`, z[1]);
  }
  entity.aggregates.forEach((a, i) => {
    if (a.type !== "sensor_daily_averages") return;
    zone(`${at}.aggregates.${i}.zone`, a.zone);
    for (const z of Object.entries(a.stationZones)) zone(`${at}.aggregates.${i}.stationZones.${z[0]}`, z[1]);
  });
  for (const entry of Object.entries(entity.phones)) {
    if (isSupportedCountry(entry[1].region)) continue;
    findings.errors.push(
      `${at}.phones.${entry[0]}.region: ${JSON.stringify(entry[1].region)} is not a phone region libphonenumber-js supports ` +
        "(ISO 3166 alpha-2, e.g. FR, US)",
    );
  }
  // Serving columns read the kept row, whose names are landed names: any other spelling never matches.
  for (const field of Object.keys(entity.serving?.columns ?? {})) {
    if (/^[a-z_][a-z0-9_]*$/.test(field)) continue;
    findings.errors.push(
      `${at}.serving.columns.${field}: ${JSON.stringify(field)} can never match a landed column ` +
        "(lowercase, digits, underscores: `updatedAt` lands as `updated_at`)",
    );
  }
  if (Object.keys(entity.fields).length === 0) return;
  const declared = new Set<string>([...Object.keys(entity.fields), ...Object.keys(entity.dates), ...LINEAGE_COLUMNS]);
  for (const phone of Object.keys(entity.phones)) for (const name of [phone, `${phone}_e164`, `${phone}_valid`]) declared.add(name);
  const named: [string, string][] = [];
  entity.primaryKey.forEach((f, i) => named.push([`primaryKey.${i}`, f]));
  if (entity.orderBy) named.push(["orderBy", entity.orderBy]);
  if (entity.eventDate) named.push(["eventDate", entity.eventDate]);
  for (const entry of Object.entries(entity.dates)) if (entry[1].zoneBy) named.push([`dates.${entry[0]}.zoneBy.field`, entry[1].zoneBy.field]);
  entity.aggregates.forEach((a, i) => {
    for (const entry of Object.entries(a)) if (entry[0].endsWith("Field") && typeof entry[1] === "string") named.push([`aggregates.${i}.${entry[0]}`, entry[1]]);
  });
  if (entity.serving) {
    for (const match of entity.serving.rowKey.matchAll(/\{([^}:]+)(?::[^}]*)?\}/g)) named.push(["serving.rowKey", match[1]]);
  }
  for (const entry of named) {
    if (declared.has(entry[1])) continue;
    const known = [...declared].filter((d) => !d.startsWith("_")).join(", ");
    findings.warnings.push(`${at}.${entry[0]}: field ${JSON.stringify(entry[1])} is not declared in fields, dates or phones (declared: ${known})`);
  }
}
