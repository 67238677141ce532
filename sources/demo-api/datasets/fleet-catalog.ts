/**
 * The fleet's vehicle catalog and per-vehicle stats, served by `/fleet/vehicles` and
 * `/fleet/vehicles/{id}/stats` for parent -> child and cursor-incremental reads. Deterministic at start
 * (vehicle and stat values come from the seed); tests add vehicles and stats between runs, so it is
 * the one mutable dataset of the demo API. Times are UTC ISO-8601 with milliseconds.
 */

export interface CatalogVehicle {
  id: string;
  name: string;
  /** Changes when the vehicle changes: the parent's incremental cursor. */
  updated_at: string;
}

export interface CatalogStat {
  time: string;
  engine_hours: number;
  /** The child's incremental cursor (equal to `time` unless a stat is corrected later). */
  updated_at: string;
}

/** Start of the catalog's clock; vehicle i is updated at base + i hours, its stat j at base + j * 15 minutes. */
export const FLEET_CATALOG_BASE_MS = Date.UTC(2026, 0, 1);
export const FLEET_CATALOG_VEHICLES = 3;
export const FLEET_CATALOG_STATS_PER_VEHICLE = 4;

const iso = (ms: number) => new Date(ms).toISOString();

/** The starting vehicle `i` (0-based): `V001`, `Truck 1`. */
export function catalogVehicle(i: number): CatalogVehicle {
  return { id: `V${String(i + 1).padStart(3, "0")}`, name: `Truck ${i + 1}`, updated_at: iso(FLEET_CATALOG_BASE_MS + i * 3_600_000) };
}

/** Stat `j` (0-based) of the vehicle at index `i`: engine hours grow by a seeded step. */
export function catalogStat(seed: number, i: number, j: number): CatalogStat {
  const time = iso(FLEET_CATALOG_BASE_MS + j * 900_000);
  const step = 1 + ((seed * 31 + i * 7 + j * 3) % 5);
  return { time: time, engine_hours: 1000 * (i + 1) + j * step, updated_at: time };
}

export class FleetCatalog {
  private readonly vehicles: CatalogVehicle[] = [];
  private readonly stats = new Map<string, CatalogStat[]>();

  constructor(seed: number) {
    for (let i = 0; i < FLEET_CATALOG_VEHICLES; i++) {
      const vehicle = catalogVehicle(i);
      this.vehicles.push(vehicle);
      const stats: CatalogStat[] = [];
      for (let j = 0; j < FLEET_CATALOG_STATS_PER_VEHICLE; j++) stats.push(catalogStat(seed, i, j));
      this.stats.set(vehicle.id, stats);
    }
  }

  /** Adds a vehicle, or replaces the one with its id (a changed parent). */
  putVehicle(vehicle: CatalogVehicle): void {
    const at = this.vehicles.findIndex((v) => v.id === vehicle.id);
    if (at >= 0) this.vehicles[at] = { ...vehicle };
    else {
      this.vehicles.push({ ...vehicle });
      this.stats.set(vehicle.id, []);
    }
  }

  /** Adds a stat to a vehicle (throws for an unknown vehicle). */
  addStat(vehicleId: string, stat: CatalogStat): void {
    const stats = this.stats.get(vehicleId);
    if (!stats) throw new Error(`no vehicle ${vehicleId}`);
    stats.push({ ...stat });
  }

  /** Vehicles updated at or after `since` (all when absent), by `updated_at` then id. */
  listVehicles(since?: number): CatalogVehicle[] {
    return this.vehicles
      .filter((v) => since === undefined || Date.parse(v.updated_at) >= since)
      .sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at) || (a.id < b.id ? -1 : 1))
      .map((v) => ({ ...v }));
  }

  /** A vehicle's stats updated at or after `since`, by `updated_at` (ascending or descending); undefined for an unknown vehicle. */
  listStats(vehicleId: string, since: number | undefined, order: "asc" | "desc"): CatalogStat[] | undefined {
    const stats = this.stats.get(vehicleId);
    if (!stats) return undefined;
    const sign = order === "desc" ? -1 : 1;
    return stats
      .filter((s) => since === undefined || Date.parse(s.updated_at) >= since)
      .sort((a, b) => sign * (Date.parse(a.updated_at) - Date.parse(b.updated_at) || (a.time < b.time ? -1 : 1)))
      .map((s) => ({ ...s }));
  }
}
