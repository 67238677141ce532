import { OPTIONS, type OptionName, type OptionSpec } from "./options";

/** A Flex Template parameter, as Dataflow's metadata.json spells it. */
export interface TemplateParameter {
  name: string;
  label: string;
  helpText: string;
  isOptional: boolean;
  regexes?: string[];
  defaultValue?: string;
}

/** The Flex Template metadata, derived from the option declarations (never edited by hand). */
export function templateMetadata(): { name: string; description: string; parameters: TemplateParameter[] } {
  const parameters: TemplateParameter[] = [];
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    if (!spec.template || !spec.commands.includes("run")) continue;
    const regexes = spec.pattern ? [spec.pattern] : spec.type === "enum" && spec.values ? [`^(${spec.values.join("|")})$`] : undefined;
    const parameter: TemplateParameter = {
      name: name,
      label: name.replace(/([A-Z])/g, " $1").replace(/^./, (c) => c.toUpperCase()),
      helpText: spec.help + (spec.example ? ` (Example: ${spec.example})` : ""),
      isOptional: !(spec.required ?? []).includes("run"),
    };
    if (regexes) parameter.regexes = regexes;
    if (spec.default !== undefined) parameter.defaultValue = spec.default;
    parameters.push(parameter);
  }
  return {
    name: "api2lake",
    description: "Extract a declarative REST source (or a Pub/Sub subscription), clean it, and land it in Cloud Storage, BigQuery (lake, hub, dataproducts) and Bigtable.",
    parameters: parameters,
  };
}

/** The README's options table, from the same declarations (README.md holds it between markers; a test keeps them equal). */
export function optionsMarkdown(): string {
  const rows = ["| option | commands | default | what it does |", "|---|---|---|---|"];
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const spec: OptionSpec = OPTIONS[name];
    const values = spec.type === "enum" && spec.values ? ` (${spec.values.join(" \\| ")})` : "";
    const example = spec.example ? ` e.g. \`${spec.example}\`` : "";
    const required = spec.required?.length ? ` Required for ${spec.required.join(", ")}.` : "";
    const when = spec.requiredWhen ? ` Required with \`--${spec.requiredWhen.option} ${spec.requiredWhen.value}\`.` : "";
    rows.push(`| \`--${name}\` | ${spec.commands.join(", ")} | ${spec.default ? `\`${spec.default}\`` : ""} | ${spec.help}${values}${example}${required}${when} |`);
  }
  return rows.join("\n");
}
