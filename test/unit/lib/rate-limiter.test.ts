import { createFixedWindowLimiter, createRollingRateLimiter } from '../../../lib/rate-limiter';

/** A fake clock: waiting advances it, so the limiter's schedule is exact and instant. */
function fakeClock() {
  let t = 1_000_000;
  return {
    now: () => t,
    wait: async (ms: number) => {
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('rolling rate limiter', () => {
  it('lets `limit` calls through at once, then starts each later one when the oldest leaves the window', async () => {
    const clock = fakeClock();
    const limiter = createRollingRateLimiter({ limit: 3, windowMs: 1000, marginMs: 50, ...clock });
    const starts: number[] = [];
    for (let i = 0; i < 7; i++) {
      await limiter.acquire();
      starts.push(clock.now() - 1_000_000);
    }
    expect(starts).toEqual([0, 0, 0, 1050, 1050, 1050, 2100]);
    // No window of 1000 ms ever holds more than 3 starts.
    for (const s of starts) expect(starts.filter((x) => x > s - 1000 && x <= s).length).toBeLessThanOrEqual(3);
    expect(limiter.stats()).toEqual({ waited: 2, waitedMs: 2100 }); // the 4th and the 7th call waited
  });

  it('serves callers in arrival order when they acquire concurrently', async () => {
    const clock = fakeClock();
    const limiter = createRollingRateLimiter({ limit: 2, windowMs: 100, marginMs: 0, ...clock });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('follows the provider when it reports fewer calls left than we think (a quota shared with others)', async () => {
    const clock = fakeClock();
    const limiter = createRollingRateLimiter({ limit: 10, windowMs: 1000, marginMs: 0, ...clock });
    await limiter.acquire();
    limiter.observe(0); // someone else used the other nine
    const before = clock.now();
    await limiter.acquire();
    expect(clock.now() - before).toBe(1000);
  });

  it('treats a 429 as a full window and never lowers its own count from a report', async () => {
    const clock = fakeClock();
    const limiter = createRollingRateLimiter({ limit: 5, windowMs: 500, marginMs: 0, ...clock });
    for (let i = 0; i < 5; i++) await limiter.acquire();
    limiter.observe(5); // a stale report saying nothing is used must not free slots
    let before = clock.now();
    await limiter.acquire();
    expect(clock.now() - before).toBe(500);
    clock.advance(600);
    limiter.exhausted();
    before = clock.now();
    await limiter.acquire();
    expect(clock.now() - before).toBe(500);
  });

  it('rejects nonsense settings', () => {
    expect(() => createRollingRateLimiter({ limit: 0, windowMs: 1000 })).toThrow('limit');
    expect(() => createRollingRateLimiter({ limit: 1, windowMs: 0 })).toThrow('windowMs');
  });
});

describe('createFixedWindowLimiter', () => {
  it('allows `limit` uses per key in a window, then answers the seconds left, and forgets old windows', () => {
    let now = 0;
    const limiter = createFixedWindowLimiter({ limit: 2, windowMs: 60_000, now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('b')]).toEqual([0, 0, 0]);
    now = 20_000;
    expect(limiter.take('a')).toBe(40);
    now = 60_000;
    expect(limiter.take('a')).toBe(0);
  });

  it('keeps at most maxKeys windows, dropping expired ones first', () => {
    let now = 0;
    const limiter = createFixedWindowLimiter({ limit: 1, windowMs: 1000, maxKeys: 2, now: () => now });
    expect([limiter.take('a'), limiter.take('b'), limiter.take('a')]).toEqual([0, 0, 1]);
    now = 1500;
    expect([limiter.take('c'), limiter.take('c')]).toEqual([0, 1]);
  });
});
