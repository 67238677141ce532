import * as fs from "fs";
import * as path from "path";
import type { ParsedOptions } from "./options";
import { templateMetadata } from "./template-metadata";

/** Writes the Flex Template metadata derived from the option declarations. */
export async function templateCommand(options: ParsedOptions): Promise<number> {
  const file = path.resolve(options.templateOut ?? "deploy/metadata.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(templateMetadata(), null, 2) + "\n");
  console.log(`wrote ${file} (${templateMetadata().parameters.length} parameters)`);
  return 0;
}
