import type { Viewer } from '../lib/auth';
import type { Logger } from '../lib/logger';

/** Per-request context at the gateway: who is calling and how to find the request in the logs. */
export interface GatewayContext {
  viewer: Viewer;
  requestId: string;
  logger: Logger;
}
