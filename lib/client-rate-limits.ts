import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from './logger';

/**
/**
 * Limits on our clients (lib/rate-limiter.ts paces our own calls to providers), with
 * rate-limiter-flexible: a fixed window per key (a viewer, an address, a route)
 * of `perMinute` requests a minute, counted in this process (the default) or in Redis, shared by
 * every instance (`RATE_LIMIT_REDIS_URL`), so N gateways allow a client the rate once, not N
 * times. While Redis cannot be reached each process counts on its own (the limiter's insurance),
 * so an outage of Redis loosens the limits to one allowance per instance instead of refusing
 * everyone or letting everyone through unlimited.
 */
export interface RateLimiter {
  /** Takes `cost` from `key`'s allowance: 0 when allowed, else the whole seconds until the window resets. */
  take(key: string, cost?: number): Promise<number>;
}

export interface RateLimitStore {
  /** A limiter of `perMinute` per key under `name` (its own key space); 0 turns it off. */
  limiter(name: string, perMinute: number, windowSeconds?: number): RateLimiter;
  /** Where the counts live: `memory`, or `redis` (and whether it is reachable now). */
  describe(): { kind: 'memory' | 'redis'; ready: boolean };
  /** Resolves true once the store counts where it should (Redis connected), false after `timeoutMs` without. */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

const OFF: RateLimiter = { take: async () => 0 };

function limiterOf(limiter: RateLimiterAbstract): RateLimiter {
  return {
    async take(key, cost = 1) {
      try {
        await limiter.consume(key, cost);
        return 0;
      } catch (refused) {
        if (refused instanceof RateLimiterRes) return Math.max(1, Math.ceil(refused.msBeforeNext / 1000));
        throw refused;
      }
    },
  };
}

/** Counts in this process only: the embedded default, and what a single instance needs. */
export function memoryRateLimits(): RateLimitStore {
  return {
    limiter: (name, perMinute, windowSeconds = 60) =>
      perMinute <= 0
        ? OFF
        : limiterOf(new RateLimiterMemory({ keyPrefix: name, points: perMinute, duration: windowSeconds })),
    describe: () => ({ kind: 'memory', ready: true }),
    ready: async () => true,
    close: async () => {},
  };
}

/**
 * Counts in Redis (one atomic INCR with expiry per request), shared by every process using the
 * same URL and prefix. Commands do not queue while Redis is away: they fail at once and the
 * in-process insurance limiter answers instead, and the outage is logged once per minute at most.
 */
export function redisRateLimits(url: string, logger: Logger, prefix = 'saypro:rl'): RateLimitStore {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
  });
  let lastWarned = 0;
  redis.on('error', (err: Error) => {
    if (Date.now() - lastWarned < 60_000) return;
    lastWarned = Date.now();
    logger.warn({ err: err.message }, 'rate limits: Redis unreachable; counting per process until it is back');
  });
  return {
    limiter: (name, perMinute, windowSeconds = 60) =>
      perMinute <= 0
        ? OFF
        : limiterOf(
            new RateLimiterRedis({
              storeClient: redis,
              keyPrefix: `${prefix}:${name}`,
              points: perMinute,
              duration: windowSeconds,
              rejectIfRedisNotReady: true,
              insuranceLimiter: new RateLimiterMemory({
                keyPrefix: `${prefix}:${name}`,
                points: perMinute,
                duration: windowSeconds,
              }),
            }),
          ),
    describe: () => ({ kind: 'redis', ready: redis.status === 'ready' }),
    ready: (timeoutMs = 2000) =>
      redis.status === 'ready'
        ? Promise.resolve(true)
        : new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => {
              redis.off('ready', onReady);
              resolve(false);
            }, timeoutMs);
            const onReady = () => {
              clearTimeout(timer);
              resolve(true);
            };
            redis.once('ready', onReady);
          }),
    close: async () => {
      redis.disconnect();
    },
  };
}

/** The store the configuration asks for: Redis when `RATE_LIMIT_REDIS_URL` is set, else this process. */
export function rateLimitsFromConfig(config: { RATE_LIMIT_REDIS_URL?: string }, logger: Logger): RateLimitStore {
  return config.RATE_LIMIT_REDIS_URL ? redisRateLimits(config.RATE_LIMIT_REDIS_URL, logger) : memoryRateLimits();
}
