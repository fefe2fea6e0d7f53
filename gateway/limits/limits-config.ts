import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { projectRoot } from '../../lib/data-dir';
import type { PersistedOperations } from '../../lib/persisted-operations';
import type { OperationLimits } from '../front-door/admission';

/** Every abuse limit the gateway enforces. */
export interface GatewayLimits {
  operation: OperationLimits;
  /** Most lexical tokens in a document. */
  maxTokens: number;
  /** Most operations in a batched request; 1 turns batching off. */
  maxBatchSize: number;
  /** Only these operations run, when set (GRAPHQL_PERSISTED_ONLY). */
  persistedOperations?: PersistedOperations;
  rate: { perIp: number; perViewer: number; webhooksPerIp: number; healthPerIp: number; trustProxyHops: number };
}

/** The gateway's abuse limits from the configuration (the manifest is read once, at start). */
export function limitsFromConfig(config: Config): GatewayLimits {
  return {
    operation: {
      maxDepth: config.GRAPHQL_MAX_DEPTH,
      maxCost: config.GRAPHQL_MAX_COST,
      maxAliases: config.GRAPHQL_MAX_ALIASES,
      maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
      defaultListSize: config.GRAPHQL_DEFAULT_LIST_SIZE,
    },
    maxTokens: config.GRAPHQL_MAX_TOKENS,
    maxBatchSize: config.GRAPHQL_MAX_BATCH,
    persistedOperations: config.GRAPHQL_PERSISTED_ONLY
      ? (JSON.parse(
          fs.readFileSync(path.join(projectRoot(), 'schema/persisted-operations.json'), 'utf8'),
        ) as PersistedOperations)
      : undefined,
    rate: {
      perIp: config.RATE_LIMIT_PER_IP,
      perViewer: config.RATE_LIMIT_PER_VIEWER,
      webhooksPerIp: config.RATE_LIMIT_WEBHOOKS_PER_IP,
      healthPerIp: config.RATE_LIMIT_HEALTH_PER_IP,
      trustProxyHops: config.TRUST_PROXY_HOPS,
    },
  };
}
