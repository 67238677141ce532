import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ExcelJS from "exceljs";
import { selectEntities } from "../../sources/rest/entity-selection";

const KNOWN = ["products", "customers", "sales"];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "entities-"));

test("comma list, ALL and nothing", async () => {
  assert.deepEqual(await selectEntities(KNOWN, "sales, customers,sales"), ["sales", "customers"]);
  assert.deepEqual(await selectEntities(KNOWN, "ALL"), KNOWN);
  assert.deepEqual(await selectEntities(KNOWN, undefined), KNOWN);
});

test("unknown names list the known ones", async () => {
  await assert.rejects(selectEntities(KNOWN, "customers,orders"), /--entities: unknown entity "orders"; known: products, customers, sales/);
});

test("text, CSV (with or without header) and xlsx files", async () => {
  const txt = path.join(dir, "list.txt");
  fs.writeFileSync(txt, "# wanted\nsales\n\ncustomers\n");
  assert.deepEqual(await selectEntities(KNOWN, txt), ["sales", "customers"]);
  const csv = path.join(dir, "list.csv");
  fs.writeFileSync(csv, "entity,comment\nproducts,\"a, b\"\n\"sales\",x\n");
  assert.deepEqual(await selectEntities(KNOWN, csv), ["products", "sales"]);
  const bare = path.join(dir, "bare.csv");
  fs.writeFileSync(bare, "customers;1\r\nproducts;2\r\n");
  assert.deepEqual(await selectEntities(KNOWN, bare), ["customers", "products"]);
  const xlsx = path.join(dir, "list.xlsx");
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet("wanted");
  sheet.addRow(["Entity", "note"]);
  sheet.addRow(["customers", "x"]);
  sheet.addRow(["sales"]);
  wb.addWorksheet("other").addRow(["products"]);
  await wb.xlsx.writeFile(xlsx);
  assert.deepEqual(await selectEntities(KNOWN, xlsx), ["customers", "sales"]);
  const bad = path.join(dir, "bad.txt");
  fs.writeFileSync(bad, "customers\nwidgets\n");
  await assert.rejects(selectEntities(KNOWN, bad), new RegExp(`unknown entity "widgets" in ${bad.replace(/[/.]/g, "\\$&")}; known:`));
  await assert.rejects(selectEntities(KNOWN, path.join(dir, "missing.csv")), /does not exist/);
});
