import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { optionsMarkdown, templateMetadata } from "../../pipeline/template-metadata";
import { OPTIONS } from "../../pipeline/options";
import { parseSourceConfig } from "../../sources/rest/config-loader";

const ROOT = path.resolve(__dirname, "..", "..", "..");

test("the README's options table is the one derived from the declarations", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  assert.ok(readme.includes(optionsMarkdown()), "README.md is out of date: run `node scripts/readme-options.js`");
});

test("deploy/metadata.json is the template metadata derived from the declarations", () => {
  const metadata = JSON.parse(fs.readFileSync(path.join(ROOT, "deploy", "metadata.json"), "utf8"));
  assert.deepEqual(metadata, templateMetadata());
  const templated = Object.entries(OPTIONS).filter((e) => (e[1] as { template?: boolean }).template && (e[1].commands as readonly string[]).includes("run")).map((e) => e[0]);
  assert.deepEqual(metadata.parameters.map((p: { name: string }) => p.name), templated);
});

test("the README's source config example is a valid config", () => {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("```yaml\nname: shop") + "```yaml\n".length;
  const yaml = readme.slice(start, readme.indexOf("```", start));
  const config = parseSourceConfig(yaml, "README.md", { env: { SHOP_API_KEY: "k" } });
  assert.deepEqual(Object.keys(config.entities), ["customers", "orders"]);
});
