import { REQUEST_ID_HEADER, VIEWER_HEADER, signViewerHeader, type Viewer } from './auth';
import { ServiceUnavailableError } from './errors';

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

/**
 * Reads entities from the subgraph that owns them, through its `_entities` field, signed as the
 * given viewer so the owner's own rules apply. One HTTP call for any number of ids; results in id
 * order, null where the owner has none (or hides it from that viewer).
 */
export function createEntityClient(options: EntityClientOptions) {
  return async function fetchEntities<T>(typename: string, ids: readonly string[], selection: string, viewer: Viewer, requestId?: string): Promise<Array<T | null>> {
    if (ids.length === 0) return [];
    if (!/^[A-Z][A-Za-z0-9_]*$/.test(typename)) throw new Error(`Invalid type name ${typename}`);
    const query = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${typename} { ${selection} } } }`;
    let res: Response;
    try {
      res = await fetch(options.url(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [VIEWER_HEADER]: signViewerHeader(viewer, options.internalSecret, 30),
          ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}),
        },
        body: JSON.stringify({ query, variables: { representations: ids.map((id) => ({ __typename: typename, id })) } }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
    } catch {
      throw new ServiceUnavailableError(options.service);
    }
    if (!res.ok) throw new ServiceUnavailableError(options.service);
    const body = (await res.json()) as { data?: { _entities?: Array<T | null> } };
    return body.data?._entities ?? ids.map(() => null);
  };
}
export type EntityClient = ReturnType<typeof createEntityClient>;
