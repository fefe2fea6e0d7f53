import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { setMaxListeners } from 'node:events';
import { STATUS_CODES } from 'node:http';
import { Pool } from 'undici';
import { metrics } from '../../lib/metrics';

export interface SubgraphFetcherOptions {
  /** Connections kept open to each subgraph origin (the most requests in flight to it at once). @default 64 */
  connectionsPerSubgraph?: number;
  /** How long an idle connection stays open. @default 30000 */
  keepAliveMs?: number;
  /** Longest a subgraph may take to answer (headers and body). @default 30000 */
  timeoutMs?: number;
}

/** Error codes in a subgraph's answer, read only when it has errors (the common answer is not parsed twice). */
function countSubgraphErrors(subgraph: string, body: Buffer): void {
  if (!body.includes('"errors"')) return;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ extensions?: { code?: unknown } }> };
    for (const error of parsed.errors ?? [])
      metrics.subgraphErrors.inc({
        subgraph,
        code: typeof error.extensions?.code === 'string' ? error.extensions.code : 'UNKNOWN',
      });
  } catch {
    metrics.subgraphErrors.inc({ subgraph, code: 'INVALID_RESPONSE' });
  }
}

/**
 * The gateway's HTTP client to its subgraphs: one undici connection pool per subgraph origin,
 * kept alive between requests and bounded in size, so a slow subgraph cannot take every socket
 * and no request pays for a new TCP (or TLS) handshake. Apollo's default fetcher
 * (make-fetch-happen) is several times slower per request. Answers are read whole into a
 * `SubgraphAnswer`, the part of a fetch `Response` that both engines read.
 */
export function createSubgraphFetcher(options: SubgraphFetcherOptions = {}, subgraphUrls: Record<string, string> = {}) {
  const nameOf = new Map(Object.entries(subgraphUrls).map(([name, url]) => [url, name]));
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string) => {
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: options.connectionsPerSubgraph ?? 64,
        keepAliveTimeout: options.keepAliveMs ?? 30_000,
        headersTimeout: options.timeoutMs ?? 30_000,
        bodyTimeout: options.timeoutMs ?? 30_000,
      });
      pools.set(origin, pool);
    }
    return pool;
  };

  const fetcher: Fetcher = async (url, init = {}) => {
    const target = new URL(url);
    // Hive passes one signal to every fetch of an operation (and undici listens on it per request):
    // past ten at once Node warns of a leak that is none.
    if (init.signal) setMaxListeners(0, init.signal as unknown as AbortSignal);
    const subgraph = nameOf.get(url) ?? 'unknown';
    const stop = metrics.subgraphFetch.startTimer({ subgraph });
    let answer;
    let body: Buffer;
    try {
      answer = await poolFor(target.origin).request({
        path: target.pathname + target.search,
        method: (init.method ?? 'GET') as 'GET' | 'POST',
        headers: init.headers,
        body: init.body,
        signal: init.signal,
      });
      body = Buffer.from(await answer.body.arrayBuffer());
    } catch (err) {
      stop({ outcome: 'network' });
      throw err;
    }
    stop({ outcome: answer.statusCode >= 200 && answer.statusCode < 300 ? 'ok' : `http_${answer.statusCode}` });
    countSubgraphErrors(subgraph, body);
    return new SubgraphAnswer(url, answer.statusCode, answer.headers, body) as unknown as FetcherResponse;
  };

  return {
    fetcher,
    /** Closes every pool (in-flight requests finish first). */
    close: async () => {
      await Promise.all([...pools.values()].map((p) => p.close()));
      pools.clear();
    },
  };
}
export type SubgraphFetcher = ReturnType<typeof createSubgraphFetcher>;

/**
 * A subgraph's answer, read whole: what RemoteGraphQLDataSource (apollo) and Hive's HTTP executor
 * read of a fetch `Response` (status, headers, text, json) without building one. A WHATWG
 * Response wraps its body in a web stream and a Headers object per answer, which the profile of
 * the heavy benchmark query (25 subgraph fetches per request) showed among the gateway's own costs.
 */
export class SubgraphAnswer {
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: AnswerHeaders;
  readonly redirected = false;
  readonly type = 'basic';
  constructor(
    readonly url: string,
    readonly status: number,
    raw: Record<string, string | string[] | undefined>,
    private readonly bytes: Buffer,
  ) {
    this.ok = status >= 200 && status < 300;
    this.statusText = STATUS_CODES[status] ?? '';
    this.headers = new AnswerHeaders(raw);
  }
  async text(): Promise<string> {
    return this.bytes.toString('utf8');
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.bytes.toString('utf8'));
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.bytes.buffer.slice(this.bytes.byteOffset, this.bytes.byteOffset + this.bytes.byteLength) as ArrayBuffer;
  }
  clone(): SubgraphAnswer {
    return this;
  }
}

/** Read-only headers of an answer, by lower-case name (undici gives them so); several values join with ", ". */
class AnswerHeaders {
  private readonly byName = new Map<string, string>();
  constructor(raw: Record<string, string | string[] | undefined>) {
    for (const [name, value] of Object.entries(raw)) {
      if (value !== undefined) this.byName.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
  }
  get(name: string): string | null {
    return this.byName.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }
  forEach(callback: (value: string, name: string) => void): void {
    this.byName.forEach(callback);
  }
  entries(): IterableIterator<[string, string]> {
    return this.byName.entries();
  }
  keys(): IterableIterator<string> {
    return this.byName.keys();
  }
  values(): IterableIterator<string> {
    return this.byName.values();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.byName.entries();
  }
}
