import { createLogger } from '../../../lib/logger';
import { ProviderUnavailableError } from '../../../lib/errors';
import { createProviderPolicy, retryInBackground } from '../../../lib/resilience';
import { eventually } from '../../helpers/eventually';

class Transient extends Error {}
class Fatal extends Error {}
const logger = createLogger({ level: 'silent' });
const policy = (overrides: Partial<Parameters<typeof createProviderPolicy>[0]> = {}) =>
  createProviderPolicy({
    provider: 'acme',
    isTransient: (e) => e instanceof Transient,
    logger,
    retries: 3,
    initialDelayMs: 1,
    maxDelayMs: 2,
    breakerThreshold: 100,
    halfOpenAfterMs: 50,
    ...overrides,
  });

describe('createProviderPolicy', () => {
  it('retries transient failures and passes the attempt number', async () => {
    const attempts: number[] = [];
    const result = await policy().execute(async (attempt) => {
      attempts.push(attempt);
      if (attempt < 3) throw new Transient('flaky');
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('does not retry other failures, and rethrows them as they are', async () => {
    let calls = 0;
    await expect(
      policy().execute(async () => {
        calls++;
        throw new Fatal('declined');
      }),
    ).rejects.toBeInstanceOf(Fatal);
    expect(calls).toBe(1);
  });

  it('turns exhausted retries into PROVIDER_UNAVAILABLE with a retry hint', async () => {
    let calls = 0;
    const error = await policy()
      .execute(async () => {
        calls++;
        throw new Transient('down');
      })
      .catch((e: unknown) => e);
    expect(calls).toBe(4);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as ProviderUnavailableError).extensions).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      provider: 'acme',
      retryAfterSeconds: 5,
    });
  });

  it('opens the circuit after consecutive failures, fails fast while open, and closes after a good trial call', async () => {
    const p = policy({ retries: 0, breakerThreshold: 3 });
    let calls = 0;
    const failing = () =>
      p
        .execute(async () => {
          calls++;
          throw new Transient('down');
        })
        .catch((e: unknown) => e);
    for (let i = 0; i < 3; i++) await failing();
    expect(p.state()).toBe('open');
    const fast = await failing();
    expect(calls).toBe(3); // the provider was not called while the circuit was open
    expect((fast as ProviderUnavailableError).extensions).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      retryAfterSeconds: 1,
    });
    // Fails fast until the half-open delay lets a trial call through.
    expect(
      await eventually(
        () => p.execute(async () => 'back').catch(() => 'open'),
        (v) => v === 'back',
        2000,
      ),
    ).toBe('back');
    expect(p.state()).toBe('closed');
  });

  it('retries failures that are transient but not an outage without counting them towards the breaker', async () => {
    class InFlight extends Transient {}
    const p = policy({
      retries: 2,
      breakerThreshold: 2,
      isOutage: (e) => e instanceof Transient && !(e instanceof InFlight),
    });
    let calls = 0;
    await p
      .execute(async () => {
        calls++;
        throw new InFlight('409');
      })
      .catch(() => undefined);
    expect(calls).toBe(3);
    expect(p.state()).toBe('closed');
  });

  it('does not count non-transient failures towards the breaker', async () => {
    const p = policy({ retries: 0, breakerThreshold: 2 });
    for (let i = 0; i < 5; i++)
      await p
        .execute(async () => {
          throw new Fatal('bad card');
        })
        .catch(() => undefined);
    expect(p.state()).toBe('closed');
  });
});

describe('retryInBackground', () => {
  it('keeps trying until the work succeeds, reporting the last failure meanwhile', async () => {
    let calls = 0;
    const task = retryInBackground(
      'probe',
      async () => {
        if (++calls < 4) throw new Error(`down ${calls}`);
      },
      { logger, initialDelayMs: 1, maxDelayMs: 5 },
    );
    expect(task.done()).toBe(false);
    await task.settled;
    expect(task.done()).toBe(true);
    expect(task.lastError()).toBeNull();
    expect(calls).toBe(4);
  });

  it('stops trying when stopped', async () => {
    let calls = 0;
    const task = retryInBackground(
      'never',
      async () => {
        calls++;
        throw new Error('still down');
      },
      { logger, initialDelayMs: 20, maxDelayMs: 20 },
    );
    await new Promise((r) => setImmediate(r));
    expect(task.lastError()).toBe('still down');
    task.stop();
    await task.settled;
    const after = calls;
    expect(task.done()).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(after);
  });
});
