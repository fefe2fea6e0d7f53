import type http from 'node:http';

export interface RateLimiterOptions {
  /** Requests a key may make per minute; also the burst it may make at once. 0 turns the limit off. */
  perMinute: number;
  /** Keys held before idle (full) buckets are dropped. @default 50000 */
  maxKeys?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * An in-memory token bucket per key (a viewer or a client address). It counts per gateway
 * process: several gateway instances each allow the full rate, so a deployment of many instances
 * needs a shared store (Redis) or a limit at the load balancer for an exact figure.
 */
export function createRateLimiter(options: RateLimiterOptions) {
  const buckets = new Map<string, Bucket>();
  const capacity = options.perMinute;
  const perMs = capacity / 60_000;
  const maxKeys = options.maxKeys ?? 50_000;
  const now = options.now ?? Date.now;

  const refill = (bucket: Bucket, at: number) => {
    bucket.tokens = Math.min(capacity, bucket.tokens + (at - bucket.updated) * perMs);
    bucket.updated = at;
  };
  const sweep = (at: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= capacity) buckets.delete(key);
    }
  };

  return {
    /**
     * Takes `cost` tokens for `key`. Returns 0 when allowed, else the seconds until that many
     * tokens are back (nothing is taken then).
     */
    take(key: string, cost = 1): number {
      if (capacity <= 0) return 0;
      const at = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxKeys) sweep(at);
        bucket = { tokens: capacity, updated: at };
        buckets.set(key, bucket);
      } else {
        refill(bucket, at);
      }
      if (bucket.tokens >= cost) {
        bucket.tokens -= cost;
        return 0;
      }
      return Math.max(1, Math.ceil((Math.min(cost, capacity) - bucket.tokens) / perMs / 1000));
    },
    get size() {
      return buckets.size;
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * The client's address. Behind `trustProxyHops` proxies that each append to X-Forwarded-For, the
 * client is the entry that many from the right; anything further left was written by the client
 * and is not trusted. Without trusted proxies the header is ignored.
 */
export function clientAddress(req: http.IncomingMessage, trustProxyHops: number): string {
  const socket = req.socket.remoteAddress ?? 'unknown';
  if (trustProxyHops <= 0) return socket;
  const header = req.headers['x-forwarded-for'];
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  const hops = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (hops.length === 0) return socket;
  return hops[Math.max(0, hops.length - trustProxyHops)]!;
}
