/**
 * Request pacing per source, shared by every concurrent request in the process: a fixed
 * spacing of `1000 / requestsPerSecond` ms between request starts (a schedule, not a token
 * bucket: no bursts), a pause every request honours after a server said `Retry-After`, and a bound
 * on requests in flight (`maxWorkers`).
 *
 * The registry lives on `globalThis`, not in a module variable: Beam deserializes a copy of
 * whatever a DoFn captures, so a module-level Map would be one registry per copy.
 */

export interface SourceGate {
  readonly source: string;
  requestsPerSecond: number | undefined;
  maxWorkers: number;
  /** Earliest start time (epoch ms) of the next request. */
  nextSlot: number;
  /** No request starts before this time (epoch ms): a server asked us to back off. */
  pausedUntil: number;
  active: number;
  waiters: Array<() => void>;
  /** Callers wait for the rate slot one after another through this chain. */
  queue: Promise<void>;
  /** Request starts so far (for tests and benches). */
  started: number;
}

export interface GateOptions {
  requestsPerSecond?: number;
  maxWorkers?: number;
}

export const DEFAULT_MAX_WORKERS = 16;

const REGISTRY_KEY = Symbol.for("api2lake.rest.rateGates");

function registry(): Map<string, SourceGate> {
  const holder = globalThis as unknown as Record<symbol, Map<string, SourceGate> | undefined>;
  let gates = holder[REGISTRY_KEY];
  if (!gates) {
    gates = new Map();
    holder[REGISTRY_KEY] = gates;
  }
  return gates;
}

/** The process-wide gate of a source (created on first use; later calls update its limits). */
export function gateFor(source: string, options: GateOptions = {}): SourceGate {
  const gates = registry();
  let gate = gates.get(source);
  if (!gate) {
    gate = { source: source, requestsPerSecond: undefined, maxWorkers: DEFAULT_MAX_WORKERS, nextSlot: 0, pausedUntil: 0, active: 0, waiters: [], queue: Promise.resolve(), started: 0 };
    gates.set(source, gate);
  }
  if (options.requestsPerSecond !== undefined) gate.requestsPerSecond = options.requestsPerSecond;
  if (options.maxWorkers !== undefined) gate.maxWorkers = Math.max(1, Math.floor(options.maxWorkers));
  return gate;
}

/** Forgets every gate (tests and benches). */
export function resetGates(): void {
  registry().clear();
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/**
 * Waits for a free worker slot, then for the source's next request slot (first come, first
 * served). Returns the function that frees the worker slot; call it when the request is done.
 *
 * Slots follow a fixed schedule (`interval = 1000 / requestsPerSecond`). A caller that wakes
 * late keeps the schedule when it is less than half an interval late; later than that the
 * schedule restarts from the late start, so a stalled event loop never causes a catch-up burst.
 */
export async function acquire(gate: SourceGate, clock: Clock = systemClock): Promise<() => void> {
  while (gate.active >= gate.maxWorkers) {
    await new Promise<void>((resolve) => gate.waiters.push(resolve));
  }
  gate.active += 1;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    gate.active -= 1;
    const next = gate.waiters.shift();
    if (next) next();
  };
  const previous = gate.queue;
  let done: () => void = () => undefined;
  gate.queue = new Promise<void>((resolve) => (done = resolve));
  try {
    await previous;
    for (;;) {
      const now = clock.now();
      const slot = Math.max(gate.nextSlot, gate.pausedUntil);
      if (now >= slot) {
        const interval = gate.requestsPerSecond ? 1000 / gate.requestsPerSecond : 0;
        gate.nextSlot = !interval ? now : now - slot <= interval / 2 ? slot + interval : now + interval;
        break;
      }
      await clock.sleep(slot - now);
    }
    gate.started += 1;
    return release;
  } catch (error) {
    release();
    throw error;
  } finally {
    done();
  }
}

/** No request of this source starts before `untilMs` (a 429's `Retry-After`). */
export function pauseGate(gate: SourceGate, untilMs: number): void {
  gate.pausedUntil = Math.max(gate.pausedUntil, untilMs);
}
