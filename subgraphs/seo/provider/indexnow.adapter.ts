import type { Logger } from '../../../lib/logger';
import { recordProviderCall } from '../../../lib/metrics';
import { IndexNowError, type IndexNowGateway } from './indexnow.port';

export interface IndexNowAdapterOptions {
  /** The search engine's endpoint, e.g. https://api.indexnow.org/indexnow (or the emulator's). */
  endpoint: string;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  logger: Logger;
}

/** Retry-After as seconds or an HTTP date → ms from now; undefined when absent or unreadable. */
export function retryAfterMsOf(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const OPERATION = 'POST /indexnow';

/**
 * IndexNow over plain HTTP (fetch): the protocol is one JSON POST, no SDK is worth a dependency.
 * No retries here: the provider policy retries outages, the sender stores 429s and later attempts.
 * Every call is logged and counted with the host and the URL count, never the URLs or the key.
 */
export function createIndexNowAdapter(options: IndexNowAdapterOptions): IndexNowGateway {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.logger.child({ provider: 'indexnow' });
  const isTransient = (error: unknown) => error instanceof IndexNowError && error.kind === 'unavailable';
  return {
    async submit(batch, attempt) {
      const started = Date.now();
      const fields = { operation: OPERATION, host: batch.host, urls: batch.urlList.length, attempt };
      let res: Response;
      try {
        res = await fetch(options.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(batch),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer(); // the body says nothing the status does not; read it so the connection is reused
      } catch (err) {
        const durationMs = Date.now() - started;
        recordProviderCall({ provider: 'indexnow', operation: OPERATION, status: null, durationMs, attempt });
        const reason =
          (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
        log.warn({ ...fields, status: null, durationMs, error: reason }, 'indexnow call failed');
        throw new IndexNowError('unavailable', `IndexNow did not answer: ${reason}`, null, undefined, { cause: err });
      }
      const durationMs = Date.now() - started;
      recordProviderCall({ provider: 'indexnow', operation: OPERATION, status: res.status, durationMs, attempt });
      if (res.status === 200 || res.status === 202) {
        log.info({ ...fields, status: res.status, durationMs }, 'indexnow call');
        return { status: res.status };
      }
      const retryAfterMs = res.status === 429 ? retryAfterMsOf(res.headers.get('retry-after')) : undefined;
      log.warn({ ...fields, status: res.status, durationMs, retryAfterMs }, 'indexnow call failed');
      if (res.status === 429)
        throw new IndexNowError('rate_limited', 'IndexNow: too many requests (429)', 429, retryAfterMs);
      if (res.status >= 500 || res.status === 408)
        throw new IndexNowError('unavailable', `IndexNow answered ${res.status}`, res.status);
      const why =
        res.status === 403
          ? 'key not valid (the key file was not found or does not hold the key)'
          : res.status === 422
            ? 'URLs not of the host, or the key does not match the protocol'
            : 'bad request';
      throw new IndexNowError('rejected', `IndexNow refused the batch (${res.status}): ${why}`, res.status);
    },
    isTransient,
    isOutage: isTransient,
  };
}
