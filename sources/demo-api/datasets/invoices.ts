/**
 * Invoices preset (Brazilian NF-e flavoured). Mess: i % 100 === 23 carries `total` as a string
 * with a decimal comma ("1234,56"); about 10% are not "authorized".
 */
import { rngFor, type Rng } from "../random";
import { isoWithOffset, pad, round2 } from "./common";

export const INVOICES_EPOCH_MS = Date.UTC(2024, 0, 1, 3); // 2024-01-01T00:00:00-03:00
export const INVOICE_ISSUERS = 12;

export interface Invoice {
  invoice_id: string;
  issuer: { cnpj: string; name: string; state: string };
  recipient: { document: string; name: string };
  issued_at: string;
  total: number | string;
  items: { sku: string; description: string; quantity: number; unit_price: number }[];
  status: "authorized" | "cancelled" | "denied";
}

const STATE_CODES: Record<string, string> = { SP: "35", RJ: "33", MG: "31", RS: "43", PR: "41" };
const COMPANY = ["Comercial", "Distribuidora", "Atacadão", "Supermercado", "Farmácia", "Livraria"];
const SURNAME = ["Silva", "Souza", "Oliveira", "Santos", "Pereira", "Costa", "Almeida", "Ferreira"];
const GIVEN = ["Ana", "João", "Maria", "Pedro", "Lucas", "Juliana", "Carla", "Rafael"];
const GOODS = ["Arroz 5kg", "Feijão preto 1kg", "Café torrado 500g", "Óleo de soja 900ml", "Açúcar cristal 1kg", "Caderno 96 folhas", "Detergente 500ml", "Leite integral 1L"];

function checkDigit(digits: string, weights: readonly number[]): number {
  let sum = 0;
  for (let k = 0; k < digits.length; k++) sum += Number(digits[k]) * weights[k];
  const rest = sum % 11;
  return rest < 2 ? 0 : 11 - rest;
}

/** A valid CNPJ, formatted `12.345.678/0001-95`. */
export function cnpjOf(r: Rng): string {
  const base = r.digits(8) + "0001";
  const d1 = checkDigit(base, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
  const d2 = checkDigit(base + d1, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
  const n = base + d1 + d2;
  return `${n.slice(0, 2)}.${n.slice(2, 5)}.${n.slice(5, 8)}/${n.slice(8, 12)}-${n.slice(12)}`;
}

/** A valid CPF, formatted `123.456.789-09`. */
function cpfOf(r: Rng): string {
  const base = r.digits(9);
  const d1 = checkDigit(base, [10, 9, 8, 7, 6, 5, 4, 3, 2]);
  const d2 = checkDigit(base + d1, [11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
  const n = base + d1 + d2;
  return `${n.slice(0, 3)}.${n.slice(3, 6)}.${n.slice(6, 9)}-${n.slice(9)}`;
}

/** Issuer k of the seed's fixed pool of INVOICE_ISSUERS issuers. */
export function invoiceIssuer(seed: number, k: number): Invoice["issuer"] {
  const r = rngFor(seed, "invoices.issuer", k);
  return { cnpj: cnpjOf(r), name: `${r.pick(COMPANY)} ${r.pick(SURNAME)} Ltda`, state: r.pick(Object.keys(STATE_CODES)) };
}

/** Invoice i (0-based). `invoice_id` is a 44-digit NF-e access key, unique per i. */
export function invoice(seed: number, i: number): Invoice {
  const r = rngFor(seed, "invoices.invoice", i);
  const issuer = invoiceIssuer(seed, r.int(0, INVOICE_ISSUERS - 1));
  const issuedMs = INVOICES_EPOCH_MS + i * 1_200_000 + r.int(0, 1199) * 1000;
  const items: Invoice["items"] = [];
  const count = r.int(1, 4);
  for (let k = 0; k < count; k++) {
    const g = r.int(0, GOODS.length - 1);
    items.push({ sku: "SKU-" + pad(10000 + g * 37, 5), description: GOODS[g], quantity: r.int(1, 12), unit_price: r.int(150, 8990) / 100 });
  }
  const total = round2(items.reduce((s, it) => s + it.quantity * it.unit_price, 0));
  const company = r.chance(0.3);
  const recipient = company
    ? { document: cnpjOf(r), name: `${r.pick(COMPANY)} ${r.pick(SURNAME)} ME` }
    : { document: cpfOf(r), name: `${r.pick(GIVEN)} ${r.pick(SURNAME)}` };
  const issued = new Date(issuedMs - 3 * 3_600_000);
  const yymm = pad(issued.getUTCFullYear() % 100, 2) + pad(issued.getUTCMonth() + 1, 2);
  const key43 = STATE_CODES[issuer.state] + yymm + issuer.cnpj.replace(/\D/g, "") + "55" + "001" + pad(i + 1, 9).slice(-9) + "1" + r.digits(8);
  const dv = checkDigit(key43.slice(-43), Array.from({ length: 43 }, (_, k) => [4, 3, 2, 9, 8, 7, 6, 5][k % 8]));
  const roll = r.next();
  return {
    invoice_id: key43 + String(dv >= 10 ? 0 : dv),
    issuer: issuer,
    recipient: recipient,
    issued_at: isoWithOffset(issuedMs, -180),
    total: i % 100 === 23 ? total.toFixed(2).replace(".", ",") : total,
    items: items,
    status: roll < 0.9 ? "authorized" : roll < 0.97 ? "cancelled" : "denied",
  };
}
