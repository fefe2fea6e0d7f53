import { randomBytes } from 'node:crypto';
import { createLogger } from '../../lib/logger';
import { memoryRateLimits, redisRateLimits } from '../../lib/client-rate-limits';
import { startBareGateway } from '../helpers/bare-gateway';

/**
 * Rate-limit stores: this process's (the default) and Redis shared by every gateway instance.
 * The Redis cases need a real Redis: TEST_REDIS_URL (.ci/run sets redis://127.0.0.1:6379); without
 * it they are skipped, and `npm test` runs with Node alone.
 */
const REDIS_URL = process.env.TEST_REDIS_URL;
const describeOnRedis = REDIS_URL ? describe : describe.skip;
const silent = createLogger({ level: 'silent' });
const prefix = () => `saypro:test:${randomBytes(6).toString('hex')}`;

describe('in-process rate limits', () => {
  it('allow the allowance per key and window, then answer with the seconds left in the window; off at 0', async () => {
    const store = memoryRateLimits();
    const limiter = store.limiter('t', 3);
    expect(await Promise.all([limiter.take('a'), limiter.take('a'), limiter.take('a')])).toEqual([0, 0, 0]);
    const wait = await limiter.take('a');
    expect(wait).toBeGreaterThan(55);
    expect(wait).toBeLessThanOrEqual(60);
    expect(await limiter.take('b')).toBe(0); // keys are independent
    expect(await limiter.take('c', 4)).toBeGreaterThan(0); // a cost over the allowance never passes
    expect(await store.limiter('off', 0).take('a', 1000)).toBe(0);
    expect(store.describe()).toEqual({ kind: 'memory', ready: true });
  });

  it('start a new allowance when the window ends', async () => {
    const limiter = memoryRateLimits().limiter('short', 1, 1);
    expect(await limiter.take('a')).toBe(0);
    expect(await limiter.take('a')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await limiter.take('a')).toBe(0);
  });
});

describeOnRedis('rate limits shared through Redis', () => {
  it('count once across instances: two stores on one Redis allow a key its allowance once, not twice', async () => {
    const shared = prefix();
    const [one, two] = [redisRateLimits(REDIS_URL!, silent, shared), redisRateLimits(REDIS_URL!, silent, shared)];
    try {
      expect(await Promise.all([one.ready(), two.ready()])).toEqual([true, true]);
      const [a, b] = [one.limiter('viewer', 4), two.limiter('viewer', 4)];
      const answers = [
        await a.take('ada'),
        await b.take('ada'),
        await a.take('ada'),
        await b.take('ada'),
        await a.take('ada'),
        await b.take('ada'),
      ];
      expect(answers.slice(0, 4)).toEqual([0, 0, 0, 0]);
      expect(answers.slice(4).every((w) => w > 0)).toBe(true);
      expect(await b.take('bob')).toBe(0);
      expect(one.describe()).toEqual({ kind: 'redis', ready: true });
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('fall back to counting per process while Redis cannot be reached, and say so', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      level: 'warn',
      destination: { write: (line: string) => void lines.push(JSON.parse(line)) } as never,
    });
    const store = redisRateLimits('redis://127.0.0.1:1', logger, prefix());
    try {
      expect(await store.ready(500)).toBe(false);
      const limiter = store.limiter('ip', 2);
      expect([await limiter.take('x'), await limiter.take('x')]).toEqual([0, 0]);
      expect(await limiter.take('x')).toBeGreaterThan(0);
      expect(store.describe()).toMatchObject({ kind: 'redis', ready: false });
      expect(lines.some((l) => l.msg === 'rate limits: Redis unreachable; counting per process until it is back')).toBe(
        true,
      );
    } finally {
      await store.close();
    }
  });

  it('hold for two gateways on one Redis: a client gets its rate once across both', async () => {
    const shared = prefix();
    const limits = (await import('../../gateway/limits/limits-config')).limitsFromConfig(
      (await import('../../lib/config')).loadConfig({ NODE_ENV: 'test', RATE_LIMIT_PER_IP: '3' }),
    );
    const [g1, g2] = await Promise.all(
      [0, 1].map(() => startBareGateway({ limits, rateLimits: redisRateLimits(REDIS_URL!, silent, shared) })),
    );
    try {
      const ask = async (url: string) =>
        (
          await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ __typename }' }),
          })
        ).status;
      const statuses = [await ask(g1.url), await ask(g2.url), await ask(g1.url), await ask(g2.url)];
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await Promise.all([g1.stop(), g2.stop()]);
    }
  });
});
