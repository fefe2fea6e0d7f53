import { setTimeout as sleep } from 'node:timers/promises';

export interface RollingRateLimiterOptions {
  /** Calls allowed in any rolling window. */
  limit: number;
  /** Length of the window, ms. */
  windowMs: number;
  /**
   * Extra wait after a slot leaves our window before it is reused: the provider counts arrivals,
   * we count departures, and the two clocks differ by the network's jitter. @default 5% of windowMs
   */
  marginMs?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default node:timers/promises setTimeout */
  wait?: (ms: number) => Promise<unknown>;
}

export interface RateLimiterStats {
  /** Calls that had to wait for a slot. */
  waited: number;
  /** Total time spent waiting, ms. */
  waitedMs: number;
}

export interface RollingRateLimiter {
  /** Resolves when a call may start and counts it. Callers are served in arrival order. */
  acquire(): Promise<void>;
  /**
   * Aligns our count with what the provider reports after a response (its remaining calls in the
   * window), so a quota shared with other processes or tools is respected too.
   */
  observe(remaining: number): void;
  /** The provider refused a call for its rate limit: treat the window as full. */
  exhausted(): void;
  stats(): RateLimiterStats;
}

/**
 * A client-side mirror of a provider's rolling-window limit (HubSpot: 100 calls per 10 s). We keep
 * the start time of each call in the window and make a new call wait until the oldest one leaves it,
 * so a bulk job paces itself instead of collecting 429s.
 */
export function createRollingRateLimiter(options: RollingRateLimiterOptions): RollingRateLimiter {
  const { limit, windowMs } = options;
  if (!(Number.isInteger(limit) && limit > 0)) throw new Error('limit must be a positive integer');
  if (!(windowMs > 0)) throw new Error('windowMs must be positive');
  const marginMs = options.marginMs ?? Math.round(windowMs * 0.05);
  const now = options.now ?? Date.now;
  const wait = options.wait ?? sleep;
  /** Start times of the calls in the current window, oldest first. */
  const hits: number[] = [];
  let queue: Promise<void> = Promise.resolve();
  const stats: RateLimiterStats = { waited: 0, waitedMs: 0 };

  const prune = (t: number) => {
    while (hits.length > 0 && hits[0]! + windowMs + marginMs <= t) hits.shift();
  };
  /** Pretends `used` calls are in the window, the missing ones starting now. */
  const fillTo = (used: number) => {
    const t = now();
    prune(t);
    while (hits.length < Math.min(used, limit)) hits.push(t);
  };

  async function take(): Promise<void> {
    let waitedHere = 0;
    for (;;) {
      const t = now();
      prune(t);
      if (hits.length < limit) {
        hits.push(t);
        if (waitedHere > 0) {
          stats.waited++;
          stats.waitedMs += waitedHere;
        }
        return;
      }
      const delay = Math.max(1, hits[0]! + windowMs + marginMs - t);
      waitedHere += delay;
      await wait(delay);
    }
  }

  return {
    acquire() {
      const turn = queue.then(take);
      queue = turn.catch(() => undefined);
      return turn;
    },
    observe(remaining) {
      if (Number.isFinite(remaining) && remaining >= 0) fillTo(limit - remaining);
    },
    exhausted() {
      fillTo(limit);
    },
    stats: () => ({ ...stats }),
  };
}

export interface FixedWindowLimiterOptions {
  /** Uses allowed per key in each window. */
  limit: number;
  windowMs: number;
  /** Keys remembered at most; expired windows are dropped first. @default 100000 */
  maxKeys?: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * A fixed window per key (one window for all when there is one key): `take(key)` counts a use and
 * answers 0 when it is allowed, else the seconds until the window ends. Per process, like the
 * gateway's limits.
 */
export function createFixedWindowLimiter(options: FixedWindowLimiterOptions) {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 100_000;
  const windows = new Map<string, { start: number; used: number }>();
  return {
    take(key: string): number {
      const t = now();
      let window = windows.get(key);
      if (!window || t - window.start >= options.windowMs) {
        if (!window && windows.size >= maxKeys) {
          for (const [k, w] of windows) if (t - w.start >= options.windowMs) windows.delete(k);
          if (windows.size >= maxKeys) windows.clear();
        }
        window = { start: t, used: 0 };
        windows.set(key, window);
      }
      return ++window.used > options.limit ? Math.max(1, Math.ceil((window.start + options.windowMs - t) / 1000)) : 0;
    },
  };
}
export type FixedWindowLimiter = ReturnType<typeof createFixedWindowLimiter>;
