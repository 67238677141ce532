import { test } from "node:test";
import * as assert from "node:assert/strict";
import { invoice, INVOICE_ISSUERS, invoiceIssuer, type Invoice } from "../../sources/demo-api";
import { openServingStore } from "../../sinks/open-backends";
import { SEED, runGolden, lakeRows, sql, cli, assertRunSucceeded } from "./helpers";

type ServedRow = { key: string; cells: Record<string, unknown> };

/** Rows of one prefix: through the CLI (`api2lake serve read`), or the same store read in-process. */
async function readServed(out: string, prefix: string, viaCli: boolean): Promise<ServedRow[]> {
  if (viaCli) {
    const r = cli(["serve", "read", "invoices", "--out", out, "--prefix", prefix, "--limit", "1000"]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as ServedRow);
  }
  const store = await openServingStore({ kind: "local", out: out });
  try {
    return (await store.read("invoices", { prefix: prefix, limit: 1000 })).map((row) => {
      const cells: Record<string, unknown> = {};
      for (const f of Object.keys(row.cells)) for (const q of Object.keys(row.cells[f])) cells[`${f}:${q}`] = row.cells[f][q].value;
      return { key: row.key, cells: cells };
    });
  } finally {
    await store.close();
  }
}

const SIZES = { invoices: 150 };

test("invoices golden: serving rows per issuer in row-key order, newest first; decimal-comma totals dead-lettered", async () => {
  const run = await runGolden("invoices", SIZES);
  assertRunSucceeded(run.manifest);
  const all: { i: number; inv: Invoice }[] = [];
  for (let i = 0; i < SIZES.invoices; i++) all.push({ i: i, inv: invoice(SEED, i) });
  const good = all.filter((x) => typeof x.inv.total === "number");
  const bad = all.filter((x) => typeof x.inv.total !== "number");
  assert.deepEqual(bad.map((x) => x.i), [23, 123]);

  const hub = await sql(run.out, "SELECT count(*) AS n FROM hub.invoices");
  assert.equal(Number(hub[0].n), good.length);

  // every issuer's rows, in key order (the first two through `api2lake serve read invoices --prefix <cnpj>#`)
  let checkedIssuers = 0;
  for (let k = 0; k < INVOICE_ISSUERS; k++) {
    const cnpj = invoiceIssuer(SEED, k).cnpj;
    const expected = good
      .filter((x) => x.inv.issuer.cnpj === cnpj)
      .sort((a, b) => Date.parse(b.inv.issued_at) - Date.parse(a.inv.issued_at) || (a.inv.invoice_id < b.inv.invoice_id ? -1 : 1));
    const rows = await readServed(run.out, `${cnpj}#`, k < 2);
    assert.equal(rows.length, expected.length, `issuer ${cnpj}`);
    if (rows.length) checkedIssuers++;
    for (let n = 0; n < rows.length; n++) {
      const want = expected[n].inv;
      const row = rows[n];
      if (n > 0) assert.ok(rows[n - 1].key < row.key, "rows not in key order");
      assert.match(row.key, new RegExp(`^${cnpj.replace(/[./]/g, (c) => "\\" + c)}#\\d{13}#${want.invoice_id}$`));
      assert.equal(row.cells["inv:invoice_id"], want.invoice_id, `issuer ${cnpj} row ${n}: not newest first`);
      assert.equal(row.cells["inv:issued_at"], new Date(want.issued_at).toISOString());
      assert.equal(row.cells["inv:status"], want.status);
      assert.equal(row.cells["inv:recipient_name"], want.recipient.name);
      assert.equal(row.cells["amt:total"], want.total);
      // `items` is an array: a json column holds it as JSON (not as the JSON text of a string).
      assert.deepEqual(row.cells["inv:items"], want.items);
    }
  }
  assert.ok(checkedIssuers >= 10);

  // the decimal-comma totals ("1234,56") are a wrong type, each with its own dead letter
  const dead = lakeRows(run.out, "deadletter", "invoices");
  assert.equal(dead.length, 2);
  for (const d of dead) {
    const p = JSON.parse(String(d.payload)) as Invoice;
    const want = bad.find((x) => x.inv.invoice_id === p.invoice_id)!;
    assert.ok(want);
    assert.equal(d.stage, "validate");
    assert.equal(d.error, `field "total": expected number, got string ${JSON.stringify(want.inv.total)}`);
  }
});
