/**
 * Seeded, stateless randomness: every value is derived from (seed, entity, index, salt), so
 * record i of any entity can be generated on demand without generating records 0..i-1.
 */

/** FNV-1a over the UTF-16 code units of a string, as an unsigned 32-bit integer. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Murmur3's finalizer: a good 32-bit avalanche. */
export function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One 32-bit hash of (seed, entity, index, salt). Indexes up to 2^53 are accepted. */
export function hashOf(seed: number, entity: string, index: number, salt = 0): number {
  const s = Math.floor(seed);
  let h = mix32(hashString(entity) ^ mix32(s >>> 0) ^ mix32(Math.floor(s / 4294967296) + 0x9e3779b9));
  h = mix32(h ^ mix32(index >>> 0));
  h = mix32(h ^ mix32(Math.floor(index / 4294967296) + 0x7f4a7c15));
  return mix32(h ^ mix32(salt + 0x632be5ab));
}

/** A float in [0, 1) from (seed, entity, index, salt). */
export function unitOf(seed: number, entity: string, index: number, salt = 0): number {
  return hashOf(seed, entity, index, salt) / 4294967296;
}

/** mulberry32 stream; cheap to create, so make one per record. */
export class Rng {
  private state: number;

  constructor(state: number) {
    this.state = state >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** A float in [min, max) rounded to `decimals`. */
  float(min: number, max: number, decimals = 2): number {
    const f = 10 ** decimals;
    return Math.round((min + this.next() * (max - min)) * f) / f;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** A string of `length` decimal digits (leading zeros allowed). */
  digits(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += String(Math.floor(this.next() * 10));
    return out;
  }

  /** `count` distinct items (fewer if the list is shorter), in list order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const chosen = new Set<number>();
    const n = Math.min(count, items.length);
    while (chosen.size < n) chosen.add(Math.floor(this.next() * items.length));
    return Array.from(chosen).sort((a, b) => a - b).map((i) => items[i]);
  }
}

/** The generator for record `index` of `entity` under `seed`. */
export function rngFor(seed: number, entity: string, index: number, salt = 0): Rng {
  return new Rng(hashOf(seed, entity, index, salt));
}
