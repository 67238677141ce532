"""The seed-style peer of bench/e2e-run.ts: the sequential Python script api2lake replaces.

Pages through GET <base>/customers?page=P&per_page=S (stops on has_more false), and for every
record: lineage columns (run id, source, page, ingested_at, sha256 of the canonical JSON payload),
validation (customer_id required, total_spent a number >= 0), phones to E.164 with the row's
`country` as region (FR when absent; python-phonenumbers), signup_date from `yyyy-MM-dd` or
`dd/MM/yyyy` to ISO date, updated_at as sent; dedupe by customer_id keeping the latest
updated_at. Lands the raw pages as NDJSON, the kept rows as NDJSON and in a DuckDB table
`customers`, and prints one JSON line: {"kept", "failed", "duplicates", "phones_file"} where
phones_file lists the kept rows' E.164 phones, one per line.

    python seed_customers.py <base_url> <page_size> <out_dir>
"""
import datetime
import hashlib
import json
import os
import sys

import duckdb
import phonenumbers
import requests


def e164(raw, region):
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def signup(value):
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.datetime.strptime(value, fmt).date().isoformat()
        except (TypeError, ValueError):
            pass
    return None


def main():
    base, page_size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(out, exist_ok=True)
    run_id = "seed-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    session = requests.Session()
    latest = {}
    failed = 0
    valid = 0
    page = 1
    with open(os.path.join(out, "raw_customers.ndjson"), "w", encoding="utf-8") as raw_file:
        while True:
            response = session.get(base + "/customers", params={"page": page, "per_page": page_size}, timeout=30)
            response.raise_for_status()
            body = response.json()
            fetched_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
            for record in body["data"]:
                payload = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                row = dict(record)
                row["_run_id"] = run_id
                row["_source"] = "/customers"
                row["_page"] = str(page)
                row["_ingested_at"] = fetched_at
                row["_payload_hash"] = hashlib.sha256(payload.encode("utf-8")).hexdigest()
                raw_file.write(json.dumps(row, ensure_ascii=False) + "\n")
                customer_id = row.get("customer_id")
                spent = row.get("total_spent")
                if not isinstance(customer_id, str) or customer_id == "":
                    failed += 1
                    continue
                if spent is not None and (not isinstance(spent, (int, float)) or spent < 0):
                    failed += 1
                    continue
                date = signup(row.get("signup_date"))
                if date is None:
                    failed += 1
                    continue
                row["signup_date"] = date
                country = row.get("country")
                region = country.upper() if isinstance(country, str) and len(country) == 2 else "FR"
                row["phone_e164"] = e164(row.get("phone"), region)
                row["phone_valid"] = row["phone_e164"] is not None
                valid += 1
                current = latest.get(customer_id)
                if current is None or row["updated_at"] > current["updated_at"]:
                    latest[customer_id] = row
            if not body.get("has_more"):
                break
            page += 1
    processed = os.path.join(out, "customers.ndjson")
    with open(processed, "w", encoding="utf-8") as f:
        for row in latest.values():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    con = duckdb.connect(os.path.join(out, "warehouse.duckdb"))
    con.execute("CREATE OR REPLACE TABLE customers AS SELECT * FROM read_json_auto(?, format='newline_delimited')", [processed])
    kept = con.execute("SELECT count(*) FROM customers").fetchone()[0]
    con.close()
    phones_file = os.path.join(out, "phones.txt")
    with open(phones_file, "w", encoding="utf-8") as f:
        for row in latest.values():
            if row["phone_e164"] is not None:
                f.write(row["phone_e164"] + "\n")
    print(json.dumps({"kept": kept, "failed": failed, "duplicates": valid - len(latest), "phones_file": phones_file}))


if __name__ == "__main__":
    main()
