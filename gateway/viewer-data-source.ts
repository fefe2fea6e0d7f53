import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { REQUEST_ID_HEADER, VIEWER_HEADER, signViewerHeader } from '../lib/auth';
import type { GatewayContext } from './context';

/**
 * Calls one subgraph with the verified viewer in a freshly signed, short-lived header and the
 * request id. Nothing from the client's own headers is forwarded, so a client-sent viewer header
 * never reaches a subgraph.
 */
export class ViewerDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly internalSecret: string,
    private readonly ttlSeconds: number,
  ) {
    super({ url });
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
