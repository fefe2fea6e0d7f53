import fs from 'node:fs';
import path from 'node:path';
import { tlsFromConfig, type Config } from '../lib/config';
import { projectRoot } from '../lib/data-dir';
import type { Logger } from '../lib/logger';
import { rateLimitsFromConfig } from '../lib/client-rate-limits';
import { limitsFromConfig } from './limits/limits-config';
import type { GatewayOptions } from './server';

/** The supergraph file the gateway serves: SUPERGRAPH_PATH, else ours. */
export function readSupergraph(config: Pick<Config, 'SUPERGRAPH_PATH'>): string {
  return fs.readFileSync(
    config.SUPERGRAPH_PATH
      ? path.resolve(config.SUPERGRAPH_PATH)
      : path.join(projectRoot(), 'schema/supergraph.graphql'),
    'utf8',
  );
}

/** The gateway's options from the configuration: one place for `npm run start:gateway` and the embedded stack. */
export function gatewayOptionsFromConfig(
  config: Config & { INTERNAL_SECRET: string },
  parts: { logger: Logger; supergraphSdl: string; subgraphUrls: Record<string, string> },
): GatewayOptions {
  return {
    ...parts,
    engine: config.GATEWAY_ENGINE,
    dedupe: config.GATEWAY_DEDUPE,
    subgraphConnections: config.SUBGRAPH_CONNECTIONS,
    // Unset only with JWT_JWKS_URL (runService checks), when HS256 tokens are refused anyway.
    jwt: {
      secret: config.JWT_SECRET ?? '',
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      clockToleranceSeconds: config.JWT_CLOCK_SKEW_SECONDS,
    },
    jwksUrl: config.JWT_JWKS_URL,
    apiKeyCacheSeconds: config.API_KEY_CACHE_SECONDS,
    internalSecret: config.INTERNAL_SECRET,
    internalTokenTtlSeconds: config.INTERNAL_TOKEN_TTL_SECONDS,
    development: config.NODE_ENV !== 'production',
    sandbox: config.SANDBOX,
    corsOrigins: config.CORS_ORIGINS,
    maxBodyBytes: config.MAX_BODY_BYTES,
    limits: limitsFromConfig(config),
    rateLimits: rateLimitsFromConfig(config, parts.logger),
    tls: tlsFromConfig(config),
  };
}
