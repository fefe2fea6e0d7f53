/** IndexNow as the seo service uses it: our types, no HTTP. */

/** The protocol's limit of URLs in one POST. */
export const MAX_URLS_PER_POST = 10_000;

/** One POST: URLs of one host, the key, and where the key file is (on that host). */
export interface IndexNowBatch {
  host: string;
  key: string;
  keyLocation: string;
  urlList: string[];
}

/**
 * A failed submission. `unavailable`: no answer, or 5xx (worth retrying); `rate_limited`: 429, try
 * again after `retryAfterMs`; `rejected`: 400/403/422 (the same batch will not pass again).
 */
export class IndexNowError extends Error {
  constructor(
    readonly kind: 'unavailable' | 'rate_limited' | 'rejected',
    message: string,
    readonly status: number | null,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'IndexNowError';
  }
}

export interface IndexNowGateway {
  /** POSTs one batch; resolves with 200 (received) or 202 (accepted, key check pending), throws IndexNowError. */
  submit(batch: IndexNowBatch, attempt: number): Promise<{ status: number }>;
  isTransient(error: unknown): boolean;
  isOutage(error: unknown): boolean;
}
