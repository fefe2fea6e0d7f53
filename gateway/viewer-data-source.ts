import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { FetcherResponse } from '@apollo/utils.fetcher';
import { REQUEST_ID_HEADER, VIEWER_HEADER, signViewerHeader } from '../lib/auth';
import { ServiceUnavailableError } from '../lib/errors';
import type { Logger } from '../lib/logger';
import type { GatewayContext } from './context';

const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/**
 * Calls one subgraph with the verified viewer in a freshly signed, short-lived header and the
 * request id. Nothing from the client's own headers is forwarded, so a client-sent viewer header
 * never reaches a subgraph.
 */
export class ViewerDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly serviceName: string,
    url: string,
    private readonly internalSecret: string,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {
    super({ url });
  }

  /**
   * A subgraph that cannot be reached (no answer, or 502/503/504) becomes SERVICE_UNAVAILABLE with
   * a retry hint instead of an opaque internal error. A 401 means the gateway and the subgraph
   * disagree on INTERNAL_SECRET: an operator's problem, logged loudly and masked for the client.
   */
  override didEncounterError(error: Error, _request: unknown, response?: FetcherResponse): void {
    if (!response || UNAVAILABLE_STATUSES.has(response.status)) {
      this.logger.warn({ subgraph: this.serviceName, err: error.message, status: response?.status }, 'subgraph unavailable');
      throw new ServiceUnavailableError(this.serviceName);
    }
    if (response.status === 401) {
      this.logger.error({ subgraph: this.serviceName }, 'subgraph refused the signed viewer header: is INTERNAL_SECRET the same on both?');
      throw new Error(`subgraph ${this.serviceName} refused the gateway`);
    }
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    // Gateway-internal requests (health probes) have no viewer: they go out as anonymous.
    const viewer = 'viewer' in context && context.viewer ? context.viewer : { userId: null, roles: [] };
    headers.set(VIEWER_HEADER, signViewerHeader(viewer, this.internalSecret, this.ttlSeconds));
    if ('requestId' in context && context.requestId) headers.set(REQUEST_ID_HEADER, context.requestId);
  }
}
