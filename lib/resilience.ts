import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleAll,
  handleWhen,
  retry,
  wrap,
} from 'cockatiel';
import { ProviderUnavailableError } from './errors';
import { metrics } from './metrics';
import type { Config } from './config';
import type { Logger } from './logger';
import { traceProviderCall } from './tracing';

export interface ProviderPolicyOptions {
  /** Provider name in logs and errors, e.g. `stripe`. */
  provider: string;
  /** Transient failures worth another attempt (network, 5xx, 409, 429). Everything else fails at once. */
  isTransient: (error: unknown) => boolean;
  /**
   * Failures that say the provider is unhealthy and count towards opening the circuit. A 409 for a
   * request still in flight is transient but says nothing about the provider. @default isTransient
   */
  isOutage?: (error: unknown) => boolean;
  logger: Logger;
  /** Retries after the first attempt. @default 3 */
  retries?: number;
  /** First backoff delay, ms; later ones grow exponentially with decorrelated jitter. @default 200 */
  initialDelayMs?: number;
  /** Largest backoff delay, ms. @default 5000 */
  maxDelayMs?: number;
  /** Consecutive transient failures that open the circuit. @default 5 */
  breakerThreshold?: number;
  /** How long an open circuit fails fast before letting one trial call through, ms. @default 30000 */
  halfOpenAfterMs?: number;
}

export interface ProviderPolicy {
  /**
   * Runs `call` with retries and the provider's circuit breaker. `call` gets the attempt number
   * (1-based) and must reuse the same idempotency key on every attempt. When the circuit is open,
   * or every attempt failed transiently, it throws ProviderUnavailableError with a retry hint.
   * `operation` names the call in its span (`stripe charge`): a fixed word, never an id.
   */
  execute<T>(call: (attempt: number) => Promise<T>, operation?: string): Promise<T>;
  state(): 'closed' | 'open' | 'half-open';
}

/**
 * One policy per provider, shared by every call to it: retries live here and nowhere else, and
 * the breaker sees every call, so a provider that is down fails fast for everyone.
 */
export function createProviderPolicy(options: ProviderPolicyOptions): ProviderPolicy {
  const transient = handleWhen((err) => options.isTransient(err));
  const outage = handleWhen((err) => (options.isOutage ?? options.isTransient)(err));
  const halfOpenAfterMs = options.halfOpenAfterMs ?? 30_000;
  const breaker = circuitBreaker(outage, {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
  });
  const retrying = retry(transient, {
    maxAttempts: options.retries ?? 3,
    backoff: new ExponentialBackoff({
      initialDelay: options.initialDelayMs ?? 200,
      maxDelay: options.maxDelayMs ?? 5000,
    }),
  });
  const circuit = (state: 'closed' | 'open' | 'half_open', transition = true) => {
    for (const s of ['closed', 'open', 'half_open'] as const)
      metrics.circuitState.set({ provider: options.provider, state: s }, s === state ? 1 : 0);
    if (transition) metrics.circuitTransitions.inc({ provider: options.provider, state });
  };
  circuit('closed', false);
  breaker.onHalfOpen(() => circuit('half_open'));
  retrying.onRetry((event) => {
    metrics.providerRetries.inc({ provider: options.provider });
    const reason = 'error' in event ? (event.error as Error).message : 'result';
    options.logger.warn(
      { provider: options.provider, delayMs: Math.round(event.delay), attempt: event.attempt, reason },
      'provider call failed, retrying',
    );
  });
  breaker.onBreak(() => {
    circuit('open');
    options.logger.error({ provider: options.provider, halfOpenAfterMs }, 'circuit opened: failing fast');
  });
  breaker.onReset(() => {
    circuit('closed');
    options.logger.info({ provider: options.provider }, 'circuit closed');
  });
  const policy = wrap(retrying, breaker);
  const retryAfterSeconds = () => Math.ceil(halfOpenAfterMs / 1000);

  return {
    async execute(call, operation) {
      try {
        return await traceProviderCall({ provider: options.provider, operation }, call, (attempted) =>
          policy.execute(({ attempt }) => attempted(attempt + 1)),
        ); // cockatiel counts from 0
      } catch (err) {
        if (err instanceof BrokenCircuitError) {
          metrics.providerShortCircuits.inc({ provider: options.provider });
          throw new ProviderUnavailableError(options.provider, retryAfterSeconds());
        }
        if (options.isTransient(err)) throw new ProviderUnavailableError(options.provider, 5, err);
        throw err;
      }
    },
    state() {
      return breaker.state === CircuitState.Closed
        ? 'closed'
        : breaker.state === CircuitState.HalfOpen
          ? 'half-open'
          : 'open';
    },
  };
}

/**
 * The one backoff of work retried from stored attempt counts (mail in the outbox, CRM contacts):
 * `baseMs` doubling per attempt up to `maxMs`, with ±20 % jitter so retries after an outage spread out.
 * `attempt` is the attempt that just failed, from 1.
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}

export interface BackgroundTask {
  /** True once `work` has succeeded. */
  done(): boolean;
  /** The last failure's message while it has not. */
  lastError(): string | null;
  /** Resolves when `work` has succeeded or the task was stopped. */
  settled: Promise<void>;
  /** No more attempts. */
  stop(): void;
}

/**
 * Runs `work` now and, until it succeeds, again after a backoff that grows from `initialDelayMs`
 * to `maxDelayMs` (exponential with jitter, as provider retries): for start-up steps that need a
 * provider which may be down, so the service starts and serves meanwhile (and says so in readiness).
 */
export function retryInBackground(
  name: string,
  work: () => Promise<void>,
  options: { logger: Logger; initialDelayMs?: number; maxDelayMs?: number },
): BackgroundTask {
  let done = false;
  let lastError: string | null = null;
  const stopped = new AbortController();
  const policy = retry(handleAll, {
    maxAttempts: Number.POSITIVE_INFINITY,
    backoff: new ExponentialBackoff({
      initialDelay: options.initialDelayMs ?? 1000,
      maxDelay: options.maxDelayMs ?? 60_000,
    }),
  }).dangerouslyUnref();
  policy.onRetry((event) =>
    options.logger.warn(
      { task: name, delayMs: Math.round(event.delay), attempt: event.attempt, error: lastError },
      'start-up step failed; retrying in the background',
    ),
  );
  const settled = policy
    .execute(async ({ signal }) => {
      if (signal.aborted) return;
      try {
        await work();
        done = true;
        lastError = null;
        options.logger.info({ task: name }, 'start-up step done');
      } catch (err) {
        lastError = (err as Error)?.message ?? String(err);
        throw err;
      }
    }, stopped.signal)
    .catch(() => undefined);
  return { done: () => done, lastError: () => lastError, settled, stop: () => stopped.abort() };
}

/** A provider's policy with the PROVIDER_* settings of the config and the adapter's error classification. */
export function providerPolicyFromConfig(
  provider: string,
  config: Pick<
    Config,
    'PROVIDER_RETRIES' | 'PROVIDER_RETRY_DELAY_MS' | 'PROVIDER_BREAKER_THRESHOLD' | 'PROVIDER_BREAKER_COOLDOWN_MS'
  >,
  adapter: { isTransient(error: unknown): boolean; isOutage(error: unknown): boolean },
  logger: Logger,
): ProviderPolicy {
  return createProviderPolicy({
    provider,
    isTransient: (err) => adapter.isTransient(err),
    isOutage: (err) => adapter.isOutage(err),
    logger,
    retries: config.PROVIDER_RETRIES,
    initialDelayMs: config.PROVIDER_RETRY_DELAY_MS,
    breakerThreshold: config.PROVIDER_BREAKER_THRESHOLD,
    halfOpenAfterMs: config.PROVIDER_BREAKER_COOLDOWN_MS,
  });
}
