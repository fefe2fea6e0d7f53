import { Pool } from 'undici';
import type { Logger } from '../../../lib/logger';
import { recordProviderCall } from '../../../lib/metrics';
import { Ga4Error, type CollectOutcome, type Ga4Gateway, type ValidationMessage } from './ga4-gateway.port';

export interface MeasurementProtocolOptions {
  /** https://www.google-analytics.com, or the emulator's base URL. */
  endpoint: string;
  measurementId: string;
  /** Travels in the query string, as GA4 asks; never logged (the logged path leaves the query out). */
  apiSecret: string;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  logger: Logger;
}

const messagesOf = (body: unknown): ValidationMessage[] => {
  const list = (body as { validationMessages?: unknown } | null)?.validationMessages;
  return Array.isArray(list)
    ? list.map((m: Record<string, unknown>) => ({
        fieldPath: String(m?.fieldPath ?? ''),
        description: String(m?.description ?? ''),
        validationCode: String(m?.validationCode ?? ''),
      }))
    : [];
};

/**
 * GA4's Measurement Protocol over undici (Google publishes no Node SDK for it; it is one JSON POST).
 * No retries here: the provider policy (lib/resilience.ts) retries, and the outbox backs off between
 * rounds. Every call is logged and counted, never with the api_secret.
 */
export function createMeasurementProtocolAdapter(options: MeasurementProtocolOptions): Ga4Gateway & {
  close(): Promise<void>;
} {
  const base = new URL(options.endpoint);
  const prefix = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, { connections: 4 });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.logger.child({ provider: 'ga4' });
  const query = `measurement_id=${encodeURIComponent(options.measurementId)}&api_secret=${encodeURIComponent(options.apiSecret)}`;

  return {
    async collect(payload, { validate, attempt }): Promise<CollectOutcome> {
      const path = validate ? '/debug/mp/collect' : '/mp/collect';
      const operation = `POST ${path}`;
      const fields = { method: 'POST', path, attempt, events: payload.events.length };
      const started = Date.now();
      try {
        const res = await pool.request({
          method: 'POST',
          path: `${prefix}${path}?${query}`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.body.text();
        const durationMs = Date.now() - started;
        recordProviderCall({ provider: 'ga4', operation, status: res.statusCode, durationMs, attempt });
        if (res.statusCode >= 300) {
          log.warn({ ...fields, status: res.statusCode, durationMs }, 'ga4 call failed');
          const transient = res.statusCode === 429 || res.statusCode >= 500;
          throw new Ga4Error(transient ? 'unavailable' : 'rejected', `GA4 answered ${res.statusCode}`, res.statusCode);
        }
        let body: unknown = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = null;
        }
        const validationMessages = validate ? messagesOf(body) : [];
        log.info(
          { ...fields, status: res.statusCode, durationMs, validationMessages: validationMessages.length },
          'ga4 call',
        );
        return { status: res.statusCode, validationMessages };
      } catch (err) {
        if (err instanceof Ga4Error) throw err;
        const durationMs = Date.now() - started;
        recordProviderCall({ provider: 'ga4', operation, status: null, durationMs, attempt });
        const reason =
          (err as Error).name === 'TimeoutError' || /timeout/i.test((err as Error).message)
            ? `no answer within ${timeoutMs} ms`
            : (err as Error).message;
        log.warn({ ...fields, status: null, durationMs, error: reason }, 'ga4 call failed');
        throw new Ga4Error('unavailable', `GA4 did not answer ${operation}: ${reason}`, null, { cause: err });
      }
    },
    isTransient: (error) => error instanceof Ga4Error && error.kind === 'unavailable',
    isOutage: (error) => error instanceof Ga4Error && error.kind === 'unavailable',
    close: () => pool.close(),
  };
}
