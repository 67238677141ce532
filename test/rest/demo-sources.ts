import type { SourceConfig, SourceConfigInput } from "../../model/source-config";
import { validateSourceConfig } from "../../sources/rest/config-loader";

/** Test configs for the demo API; `retry` is fast unless overridden. */
export function commerceSource(url: string, overrides: Partial<SourceConfigInput> = {}): SourceConfig {
  return validateSourceConfig({
    name: "commerce",
    baseUrl: url,
    auth: { type: "api_key", name: "X-API-Key", value: "demo-key" },
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 3000, timeoutMs: 1000 },
    entities: {
      products: { path: "/commerce/products", primaryKey: ["product_id"], paginator: { type: "page_number", sizeParam: "per_page", size: 20, totalPagesPath: "meta.total_pages" } },
      customers: { path: "/commerce/customers", primaryKey: ["customer_id"], paginator: { type: "page_number", sizeParam: "per_page", size: 50, hasMorePath: "has_more" } },
      sales: { path: "/commerce/sales", primaryKey: ["sale_id"], paginator: { type: "offset", limit: 100, totalPath: "total" } },
    },
    ...overrides,
  }, "test/commerce.yaml", { env: {} });
}

export function fleetSource(url: string, overrides: Partial<SourceConfigInput> = {}): SourceConfig {
  const cursor = { type: "cursor", cursorParam: "after", cursorPath: "pagination.endCursor", hasMorePath: "pagination.hasNextPage", limitParam: "limit", limit: 10 };
  return validateSourceConfig({
    name: "fleet",
    baseUrl: url,
    auth: { type: "bearer", token: "demo-token" },
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 3000, timeoutMs: 1000 },
    entities: {
      drivers: { path: "/fleet/drivers", primaryKey: ["id"], paginator: cursor },
      vehicle_stats: {
        path: "/fleet/vehicles/stats/history", primaryKey: ["id", "time"], paginator: { ...cursor, limit: 50 },
        slices: { startParam: "startTime", endParam: "endTime", step: "P1D", format: "iso" },
      },
    },
    ...overrides,
  }, "test/fleet.yaml", { env: {} });
}

export function otherSources(url: string): SourceConfig {
  return validateSourceConfig({
    name: "misc",
    baseUrl: url,
    auth: { type: "api_key", location: "query", name: "api_key", value: "demo-key" },
    retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 3000, timeoutMs: 1000 },
    entities: {
      invoices: { path: "/invoices", primaryKey: ["invoice_id"], recordsPath: "items", params: { limit: "40" }, paginator: { type: "next_url", nextUrlPath: "next" } },
      readings: {
        path: "/v3/getStationHourlyAvg/{station_id}", primaryKey: ["station_id", "timestamp"],
        pathParams: { station_id: ["283181971", "283164601"] }, attach: { station_id: "{path.station_id}" },
      },
      jobs: { path: "/jobs/postings", primaryKey: ["id"], recordsPath: "", params: { per_page: "25" }, paginator: { type: "link_header" } },
      jobs_filtered: { path: "/data", primaryKey: ["id"], recordsPath: "", params: { Location: "^Bangalore" } },
    },
  }, "test/misc.yaml", { env: {} });
}

/** Every string the tests must never find in any output. */
export const SECRETS = ["demo-key", "demo-token", Buffer.from("user:demo-pass").toString("base64"), "demo-pass"];
