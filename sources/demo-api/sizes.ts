/** How many records each demo entity has. */
export interface DemoSizes {
  products: number;
  customers: number;
  sales: number;
  drivers: number;
  /** Vehicle stat records per day, 2024-01-01 .. 2024-12-31 (at most 86,400). */
  vehicleStatsPerDay: number;
  stations: number;
  /** Days of hourly readings per station, from 2024-01-01 00:00:00. */
  readingsDays: number;
  jobs: number;
  invoices: number;
}

export const DEFAULT_SIZES: Readonly<DemoSizes> = Object.freeze({
  products: 120,
  customers: 1000,
  sales: 3000,
  drivers: 250,
  vehicleStatsPerDay: 96,
  stations: 4,
  readingsDays: 14,
  jobs: 400,
  invoices: 500,
});

const LIMITS: Record<keyof DemoSizes, number> = {
  products: 10_000_000,
  customers: 100_000_000,
  sales: 100_000_000,
  drivers: 10_000_000,
  vehicleStatsPerDay: 86_400,
  stations: 10_000,
  readingsDays: 3_660,
  jobs: 1_000_000,
  invoices: 100_000_000,
};

/** Defaults overlaid with `sizes`; throws on a negative, fractional or too large size. */
export function resolveSizes(sizes: Partial<DemoSizes> | undefined): DemoSizes {
  const out: DemoSizes = Object.assign({}, DEFAULT_SIZES, sizes ?? {});
  for (const key of Object.keys(LIMITS) as (keyof DemoSizes)[]) {
    const v = out[key];
    if (!Number.isInteger(v) || v < 0 || v > LIMITS[key])
      throw new RangeError(`demo-api: sizes.${key} must be an integer in [0, ${LIMITS[key]}], got ${String(v)}`);
  }
  return Object.freeze(out);
}
