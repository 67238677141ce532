/**
 * Fleet preset (Samsara-shaped): drivers and vehicle stats history.
 *
 * Drivers: phones are mostly 10 digits with no country code (`4157771234`), some `+1...`,
 * i % 50 === 7 has phone ""; about 15% (and every i % 20 === 9) have no `vehicle`; tags may be [].
 * Vehicle stats: `perDay` records per UTC day from 2024-01-01 to 2024-12-31, strictly
 * increasing in time with the global index g = day * perDay + k; every g % 97 === 5 lacks
 * `fuelPercent`.
 */
import { rngFor } from "../random";
import { FIRST_NAMES, LAST_NAMES, asciiSlug, isoUtcSeconds } from "./common";

export const FLEET_STATS_START_MS = Date.UTC(2024, 0, 1);
export const FLEET_STATS_END_MS = Date.UTC(2025, 0, 1);
export const FLEET_STATS_DAYS = 366;
export const FLEET_VEHICLES = 25;

export interface Driver {
  id: string;
  name: string;
  username: string;
  phone: string;
  licenseState: string;
  driverActivationStatus: "active" | "deactivated";
  eldSettings: { rulesets: { cycle: string; shift: string; restart: string; break: string }[] };
  vehicle?: { id: string; name: string };
  tags: { id: string; name: string }[];
  updatedAtTime: string;
  createdAtTime: string;
}

export interface VehicleStat {
  id: string;
  name: string;
  time: string;
  engineState: { value: "On" | "Off" | "Idle" };
  gps: { latitude: number; longitude: number; speedMilesPerHour: number; reverseGeo: { formattedLocation: string } };
  fuelPercent?: { value: number };
}

const STATES = ["CA", "NV", "OR", "WA", "TX", "AZ", "NY", "IL"];
const TAGS = [
  { id: "3914", name: "West Coast" },
  { id: "3915", name: "Night Shift" },
  { id: "3916", name: "Hazmat" },
  { id: "3917", name: "Long Haul" },
  { id: "3918", name: "Trainee" },
];
const CYCLES = ["USA 70 hour / 8 day", "USA 60 hour / 7 day", "California 80 hour / 8 day"];

export const vehicleId = (v: number): string => String(281474976710000 + v);
export const vehicleName = (v: number): string => `Truck ${String(v + 1).padStart(3, "0")}`;

/** Driver i (0-based); ids are `String(100000 + i)`. */
export function fleetDriver(seed: number, i: number): Driver {
  const r = rngFor(seed, "fleet.driver", i);
  const first = r.pick(FIRST_NAMES);
  const last = r.pick(LAST_NAMES);
  const digits = r.pick(["415", "702", "503", "206", "713", "602"]) + String(r.int(200, 999)) + r.digits(4);
  const phone = i % 50 === 7 ? "" : r.chance(0.15) ? `+1${digits}` : digits;
  const created = Date.UTC(2019, 0, 1) + r.int(0, 4 * 365 * 24) * 3_600_000 + r.int(0, 3599) * 1000;
  const updated = Date.UTC(2024, 0, 1) + r.int(0, 365 * 24) * 3_600_000 + r.int(0, 3_599_999);
  const hasVehicle = i % 20 !== 9 && !r.chance(0.15);
  const v = r.int(0, FLEET_VEHICLES - 1);
  const driver: Driver = {
    id: String(100000 + i),
    name: `${first} ${last}`,
    username: `${asciiSlug(first)}.${asciiSlug(last)}${i}`,
    phone: phone,
    licenseState: r.pick(STATES),
    driverActivationStatus: r.chance(0.9) ? "active" : "deactivated",
    eldSettings: {
      rulesets: [{ cycle: r.pick(CYCLES), shift: "US Interstate Property", restart: "34-hour Restart", break: "Property (off-duty/sleeper)" }],
    },
    tags: r.sample(TAGS, r.int(0, 2)),
    // RFC 3339, sometimes with milliseconds (as Samsara does).
    updatedAtTime: r.chance(0.5) ? new Date(updated).toISOString() : isoUtcSeconds(updated),
    createdAtTime: isoUtcSeconds(created),
  };
  if (hasVehicle) driver.vehicle = { id: vehicleId(v), name: vehicleName(v) };
  return driver;
}

/** Total vehicle stat records over the whole year. */
export const fleetStatsTotal = (perDay: number): number => FLEET_STATS_DAYS * perDay;

/** Time (epoch ms, whole seconds) of stat record g; strictly increasing in g. */
export function fleetStatTimeMs(seed: number, g: number, perDay: number): number {
  const day = Math.floor(g / perDay);
  const k = g - day * perDay;
  const base = Math.floor((k * 86400) / perDay);
  const next = Math.floor(((k + 1) * 86400) / perDay);
  const jitter = Math.floor(rngFor(seed, "fleet.stat.time", g).next() * (next - base));
  return FLEET_STATS_START_MS + day * 86_400_000 + (base + jitter) * 1000;
}

/** Smallest g in [0, total] whose time is >= epochMs (total when none). */
export function fleetStatLowerBound(seed: number, epochMs: number, perDay: number): number {
  let lo = 0;
  let hi = fleetStatsTotal(perDay);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (fleetStatTimeMs(seed, mid, perDay) < epochMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const PLACES = [
  { name: "Embarcadero, San Francisco, CA", lat: 37.7955, lon: -122.3937 },
  { name: "I-80 W, Reno, NV", lat: 39.5296, lon: -119.8138 },
  { name: "SE Hawthorne Blvd, Portland, OR", lat: 45.5122, lon: -122.6587 },
  { name: "4th Ave S, Seattle, WA", lat: 47.5952, lon: -122.3316 },
  { name: "Main St, Houston, TX", lat: 29.7604, lon: -95.3698 },
];

/** Vehicle stat record g (global index over the year). */
export function fleetVehicleStat(seed: number, g: number, perDay: number): VehicleStat {
  const r = rngFor(seed, "fleet.stat", g);
  const v = g % FLEET_VEHICLES;
  const place = r.pick(PLACES);
  const engine = r.pick(["On", "On", "Idle", "Off"] as const);
  const stat: VehicleStat = {
    id: vehicleId(v),
    name: vehicleName(v),
    time: isoUtcSeconds(fleetStatTimeMs(seed, g, perDay)),
    engineState: { value: engine },
    gps: {
      latitude: Math.round((place.lat + (r.next() - 0.5) / 10) * 1e6) / 1e6,
      longitude: Math.round((place.lon + (r.next() - 0.5) / 10) * 1e6) / 1e6,
      speedMilesPerHour: engine === "On" ? r.float(0, 75, 1) : 0,
      reverseGeo: { formattedLocation: place.name },
    },
  };
  if (g % 97 !== 5) stat.fuelPercent = { value: r.int(3, 100) };
  return stat;
}
