import type { ColumnSpec, TableSpec } from "../model/backends";
import { LINEAGE_COLUMNS } from "../model/row";
import type { EntityConfig, FieldType } from "../model/source-config";

const LINEAGE: ColumnSpec[] = LINEAGE_COLUMNS.map((name) => ({ name: name, type: (name === "_ingested_at" ? "timestamp" : "string") as FieldType }));

/**
 * The warehouse tables of an entity, from its declaration: declared fields, the phone
 * outputs, lineage. Columns the API sends without declaring them are added by the warehouse
 * as they appear (never dropped).
 */
export function entityTables(name: string, entity: EntityConfig): { lake: TableSpec; hub: TableSpec; lineage: ColumnSpec[] } {
  const declared: ColumnSpec[] = Object.entries(entity.fields).map((e) => ({ name: e[0], type: e[1].type }));
  for (const field of Object.keys(entity.dates)) {
    if (!(field in entity.fields)) declared.push({ name: field, type: entity.dates[field].output });
  }
  const phones: ColumnSpec[] = Object.keys(entity.phones).flatMap((field) => [
    { name: `${field}_e164`, type: "string" as FieldType },
    { name: `${field}_valid`, type: "boolean" as FieldType },
  ]);
  const partitionColumn = entity.eventDate;
  return {
    // Raw rows keep API values as sent (dates unparsed), so the lake table types them loosely.
    lake: { name: name, columns: [...LINEAGE], partitionColumn: undefined },
    hub: { name: name, columns: [...declared, ...phones, ...LINEAGE], partitionColumn: partitionColumn, primaryKey: entity.primaryKey },
    lineage: [...LINEAGE],
  };
}
