import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkSources } from "../../pipeline/config-checks";
import { parseSourceConfig } from "../../sources/rest/config-loader";
import { startServer, json, type LocalServer } from "../rest/helpers";
import { runCli } from "../support/cli-process";

const source = (name: string, entity: string) => parseSourceConfig(`name: ${name}\nbaseUrl: http://127.0.0.1:9\nentities:\n  items:\n${entity}`, `${name}.yaml`, { env: {} });
const FIELDS = "    fields: { id: { type: integer }, updated_at: { type: timestamp } }\n";

test("time zones must be IANA zones (luxon), with the key path", () => {
  const s = source("tz", `    path: /x\n    primaryKey: [id]\n${FIELDS}    dates: { updated_at: { formats: [iso], zone: Mars/Olympus, zoneBy: { field: id, zones: { "7": Europe/Rome, "8": "+25:00" } } } }\n`);
  assert.deepEqual(checkSources([s]).errors, [
    'tz.entities.items.dates.updated_at.zone: "Mars/Olympus" is not an IANA time zone (e.g. Europe/Rome, UTC)',
    'tz.entities.items.dates.updated_at.zoneBy.zones.8: "+25:00" is not an IANA time zone (e.g. Europe/Rome, UTC)',
  ]);
});

test("phone regions must be supported by libphonenumber-js: ZZ is refused", () => {
  const s = source("ph", `    path: /x\n    primaryKey: [id]\n    phones: { phone: { region: ZZ }, fax: { region: FR } }\n`);
  assert.deepEqual(checkSources([s]).errors, ['ph.entities.items.phones.phone.region: "ZZ" is not a phone region libphonenumber-js supports (ISO 3166 alpha-2, e.g. FR, US)']);
});

test("undeclared keys are warnings naming the declared fields; undeclared-only entities are not judged", () => {
  const s = source("keys", `    path: /x\n    primaryKey: [id, nope]\n    orderBy: updatd_at\n    eventDate: updated_at\n    phones: { phone: { region: FR } }\n${FIELDS}    serving: { table: t, rowKey: "{phone_e164}#{missing}", families: { m: {} }, columns: { id: "m:id:int64" } }\n`);
  assert.deepEqual(checkSources([s]), {
    errors: [],
    warnings: [
      'keys.entities.items.primaryKey.1: field "nope" is not declared in fields, dates or phones (declared: id, updated_at, phone, phone_e164, phone_valid)',
      'keys.entities.items.orderBy: field "updatd_at" is not declared in fields, dates or phones (declared: id, updated_at, phone, phone_e164, phone_valid)',
      'keys.entities.items.serving.rowKey: field "missing" is not declared in fields, dates or phones (declared: id, updated_at, phone, phone_e164, phone_valid)',
    ],
  });
  assert.deepEqual(checkSources([source("free", "    path: /x\n    primaryKey: [anything]\n")]), { errors: [], warnings: [] });
});

test("a serving column that is not a landed name can never match", () => {
  const s = source("sv", `    path: /x\n    primaryKey: [id]\n    serving: { table: t, rowKey: "{id}", families: { m: {} }, columns: { updatedAt: "m:u:string" } }\n`);
  assert.deepEqual(checkSources([s]).errors, ["sv.entities.items.serving.columns.updatedAt: \"updatedAt\" can never match a landed column (lowercase, digits, underscores: `updatedAt` lands as `updated_at`)"]);
});

test("two sources with an entity of the same name must both declare sharedTable", () => {
  const a = source("a", "    path: /x\n    primaryKey: [id]\n");
  const b = source("b", "    path: /y\n    primaryKey: [id]\n");
  assert.deepEqual(checkSources([a, b]).errors, ["a.entities.items and b.entities.items: land in the same tables (lake.items, hub.items) and would overwrite each other's rows; rename one, or declare sharedTable: true on each"]);
  const sa = source("a", "    path: /x\n    primaryKey: [id]\n    sharedTable: true\n");
  const sb = source("b", "    path: /y\n    primaryKey: [id]\n    sharedTable: true\n");
  assert.deepEqual(checkSources([sa, sb]).errors, []);
});

let server: LocalServer;
before(async () => {
  server = await startServer((_req, res) => json(res, { data: [{ id: 1, phone: "0612345678" }] }));
});
after(async () => server?.close());

test("the CLI refuses a bad config at load (exit 2) before any request, and prints warnings", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api2lake-checks-"));
  const file = path.join(dir, "s.yaml");
  fs.writeFileSync(file, `name: cli\nbaseUrl: ${server.url}\nentities:\n  items:\n    path: /x\n    primaryKey: [id]\n    phones: { phone: { region: ZZ } }\n`);
  const bad = await runCli(["run", "--config", file, "--out", path.join(dir, "out")]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), 'api2lake run: cli.entities.items.phones.phone.region: "ZZ" is not a phone region libphonenumber-js supports (ISO 3166 alpha-2, e.g. FR, US)');
  assert.equal(server.requests.length, 0);

  fs.writeFileSync(file, `name: cli\nbaseUrl: ${server.url}\nentities:\n  items:\n    path: /x\n    primaryKey: [id]\n    orderBy: phon\n    fields: { id: { type: integer } }\n    phones: { phone: { region: FR } }\n`);
  const warned = await runCli(["run", "--config", file, "--out", path.join(dir, "out")]);
  assert.equal(warned.code, 0, warned.stdout + warned.stderr);
  assert.match(warned.stderr, /^warning: cli\.entities\.items\.orderBy: field "phon" is not declared in fields, dates or phones \(declared: id, phone, phone_e164, phone_valid\)$/m);
});
