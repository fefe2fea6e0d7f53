/** The part of autocannon's API the benchmarks use (autocannon ships no types). */
export interface Histogram {
  average: number;
  mean: number;
  stddev: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
}
export interface AutocannonResult {
  requests: Histogram & { total: number };
  latency: Histogram;
  throughput: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
export interface AutocannonRequest {
  method?: 'POST';
  headers?: Record<string, string>;
  body?: string;
}
export interface AutocannonOptions {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  duration?: number;
  /** Stop after this many requests instead of after `duration`. */
  amount?: number;
  /** Per-request setup: each charge gets its own listing, token and idempotency key. */
  requests?: Array<{ setupRequest: (request: AutocannonRequest) => AutocannonRequest }>;
  timeout: number;
  verifyBody?: (body: string) => boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const autocannon = require('autocannon') as (opts: AutocannonOptions) => Promise<AutocannonResult>;
