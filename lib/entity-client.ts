import { REQUEST_ID_HEADER, VIEWER_HEADER, signViewerHeader, type Viewer } from './auth';
import { ServiceUnavailableError } from './errors';
import { traceCall } from './tracing';

/** Everything a service may ask about another's entities: a full-rights internal viewer. */
export const SYSTEM_VIEWER: Viewer = Object.freeze({ userId: null, roles: ['admin'] }) as Viewer;

export interface EntityClientOptions {
  /** Name of the owning service, for errors. */
  service: string;
  /** Its GraphQL URL (a function: embedded mode learns it after listening). */
  url: () => string;
  internalSecret: string;
  /** @default 5000 */
  timeoutMs?: number;
}

/** A GraphQL error another service answered: internal callers treat it as a bug or a refusal, not an outage. */
export class InternalQueryError extends Error {
  constructor(
    service: string,
    readonly codes: string[],
  ) {
    super(`${service} refused an internal query (${codes.join(', ') || 'no code'})`);
    this.name = 'InternalQueryError';
  }
}

type GraphQLBody<T> = { data?: T | null; errors?: Array<{ extensions?: { code?: string } }> };

/** One signed POST to another service's GraphQL endpoint; an unreachable service is SERVICE_UNAVAILABLE. */
function createPoster(options: EntityClientOptions) {
  return async function post<T>(
    document: string,
    variables: Record<string, unknown>,
    viewer: Viewer,
    requestId?: string,
  ): Promise<GraphQLBody<T>> {
    let res: Response;
    try {
      const url = new URL(options.url());
      const body = JSON.stringify({ query: document, variables });
      res = await traceCall(options.service, { url: url.toString() }, (traceparent) =>
        fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [VIEWER_HEADER]: signViewerHeader(
              viewer,
              { audience: options.service, path: url.pathname + url.search, body },
              options.internalSecret,
              30,
            ),
            ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}),
            ...traceparent,
          },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        }),
      );
    } catch {
      throw new ServiceUnavailableError(options.service);
    }
    if (!res.ok && res.status !== 400) throw new ServiceUnavailableError(options.service);
    return (await res.json()) as GraphQLBody<T>;
  };
}

/**
 * Runs a GraphQL operation against another service directly (not through the gateway), signed as
 * the given viewer so that service's own rules apply. Any GraphQL error is an InternalQueryError.
 */
export function createInternalClient(options: EntityClientOptions) {
  const post = createPoster(options);
  return async function query<T>(
    document: string,
    variables: Record<string, unknown>,
    viewer: Viewer,
    requestId?: string,
  ): Promise<T> {
    const body = await post<T>(document, variables, viewer, requestId);
    if (body.errors?.length || !body.data)
      throw new InternalQueryError(
        options.service,
        (body.errors ?? []).map((e) => e.extensions?.code ?? 'UNKNOWN'),
      );
    return body.data;
  };
}
export type InternalClient = ReturnType<typeof createInternalClient>;

/**
 * Reads entities from the subgraph that owns them, through its `_entities` field, signed as the
 * given viewer so the owner's own rules apply. One HTTP call for any number of ids; results in id
 * order, null where the owner has none (or hides it from that viewer).
 */
export function createEntityClient(options: EntityClientOptions) {
  const post = createPoster(options);
  return async function fetchEntities<T>(
    typename: string,
    ids: readonly string[],
    selection: string,
    viewer: Viewer,
    requestId?: string,
  ): Promise<Array<T | null>> {
    if (ids.length === 0) return [];
    if (!/^[A-Z][A-Za-z0-9_]*$/.test(typename)) throw new Error(`Invalid type name ${typename}`);
    const document = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${typename} { ${selection} } } }`;
    const representations = ids.map((id) => ({ __typename: typename, id }));
    const body = await post<{ _entities?: Array<T | null> }>(document, { representations }, viewer, requestId);
    return body.data?._entities ?? ids.map(() => null);
  };
}
export type EntityClient = ReturnType<typeof createEntityClient>;
