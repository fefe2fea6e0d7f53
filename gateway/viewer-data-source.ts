import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { Fetcher, FetcherResponse } from '@apollo/utils.fetcher';
import { ANONYMOUS, REQUEST_ID_HEADER, VIEWER_HEADER, signViewerHeader, type Viewer } from '../lib/auth';
import { AppError, ErrorCode, ServiceUnavailableError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import { traceCall } from '../lib/tracing';
import type { GatewayContext } from './context';

const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);
/**
 * Carries the viewer from where an engine knows it (the operation) to the fetch, which signs it
 * over the body; never sent. In Hive's deduplication key it keeps two viewers' fetches apart.
 */
export const UNSIGNED_VIEWER = 'x-saypro-viewer-unsigned';

/**
 * The headers a subgraph fetch sends: the unsigned viewer the engine left replaced by the header
 * signed for this subgraph, this path and these bytes (lib/auth.ts signViewerHeader). Both
 * engines sign here, at the last moment before sending.
 */
export function signedForFetch(
  headers: Record<string, string>,
  fetch: { audience: string; url: string; body: string | Uint8Array | undefined },
  secret: string,
  ttlSeconds: number,
): Record<string, string> {
  const { [UNSIGNED_VIEWER]: unsigned, ...sent } = headers;
  const viewer = unsigned ? (JSON.parse(unsigned) as Viewer) : ANONYMOUS;
  const target = new URL(fetch.url);
  sent[VIEWER_HEADER] = signViewerHeader(
    viewer,
    { audience: fetch.audience, path: target.pathname + target.search, body: fetch.body ?? '' },
    secret,
    ttlSeconds,
  );
  return sent;
}

/**
 * The subgraph's BAD_USER_INPUT from a 400 answer's body, as our own error: graphql-js names the
 * variable and the path, and we keep those and its reason without echoing the value itself.
 * Both engines read a subgraph's 400 this way.
 */
export function badInputOf(answer: unknown): AppError | null {
  const body = answer as { errors?: Array<{ message?: string; extensions?: { code?: string } }> } | undefined;
  const refused = body?.errors?.find((e) => e.extensions?.code === ErrorCode.BAD_USER_INPUT);
  if (!refused) return null;
  const message = refused.message ?? '';
  const variable = /^Variable "(\$[A-Za-z_][A-Za-z0-9_]*)"/.exec(message)?.[1];
  // graphql-js prints the value JSON-escaped, so ` at "<path>"; ` only ever matches its own text.
  const tail = / at "([A-Za-z0-9_.[\]]+)"; ([A-Za-z][A-Za-z -]*)/.exec(message);
  const path = tail?.[1];
  const reason = tail?.[2]?.trim();
  const where = path ?? variable ?? 'a variable';
  return new AppError(
    ErrorCode.BAD_USER_INPUT,
    `Invalid value at ${where}${reason ? `: ${reason}` : ''}`,
    path ? { field: path } : {},
  );
}

/**
 * Calls one subgraph with the verified viewer in a header signed for that subgraph and that very
 * request (lib/auth.ts signViewerHeader: audience, digest of path and body, nonce, short expiry),
 * and the request id. The body is only known at fetch time, so willSendRequest leaves the viewer in
 * an unsigned header that the fetch replaces with the signed one. Nothing from the client's own
 * headers is forwarded, so a client-sent viewer header never reaches a subgraph.
 */
export class ViewerDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly serviceName: string,
    url: string,
    private readonly internalSecret: string,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
    fetcher?: Fetcher,
  ) {
    super({ url, ...(fetcher ? { fetcher } : {}) });
    this.fetcher = this.signing(this.fetcher);
  }

  private signing(send: Fetcher): Fetcher {
    return (url, init = {}) => {
      const fetch = { audience: this.serviceName, url, body: init.body as string | undefined };
      const signed = signedForFetch(
        (init.headers ?? {}) as Record<string, string>,
        fetch,
        this.internalSecret,
        this.ttlSeconds,
      );
      return traceCall(this.serviceName, { method: init.method, url }, (traceparent) =>
        send(url, { ...init, headers: { ...signed, ...traceparent } }),
      );
    };
  }

  /**
   * A subgraph that cannot be reached (no answer, or 502/503/504) becomes SERVICE_UNAVAILABLE with
   * a retry hint instead of an opaque internal error. A 401 means the gateway and the subgraph
   * disagree on INTERNAL_SECRET: an operator's problem, logged loudly and masked for the client.
   */
  override didEncounterError(error: Error, _request: unknown, response?: FetcherResponse): void {
    if (!response || UNAVAILABLE_STATUSES.has(response.status)) {
      this.logger.warn(
        { subgraph: this.serviceName, err: error.message, status: response?.status },
        'subgraph unavailable',
      );
      throw new ServiceUnavailableError(this.serviceName);
    }
    if (response.status === 400) {
      // A value the gateway passes through unchecked (a custom scalar such as JSONObject) that the
      // subgraph refused while coercing variables: the client's mistake, so say which input.
      const refused = badInputOf(
        (error as { extensions?: { response?: { body?: unknown } } }).extensions?.response?.body,
      );
      if (refused) throw refused;
    }
    if (response.status === 401) {
      this.logger.error(
        { subgraph: this.serviceName },
        'subgraph refused the signed viewer header: is INTERNAL_SECRET the same on both?',
      );
      throw new Error(`subgraph ${this.serviceName} refused the gateway`);
    }
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    // Gateway-internal requests (health probes) have no viewer: they go out as anonymous.
    const viewer = 'viewer' in context && context.viewer ? context.viewer : ANONYMOUS;
    headers.set(UNSIGNED_VIEWER, JSON.stringify(viewer));
    if ('requestId' in context && context.requestId) headers.set(REQUEST_ID_HEADER, context.requestId);
  }
}
