import '../lib/telemetry';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../lib/data-dir';
import { closeServer, listen, urlOf } from '../lib/http';
import { tlsFromConfig } from '../lib/config';
import { runService } from '../lib/service-main';
import { limitsFromConfig } from './limits/limits-config';
import { createGateway } from './server';
import { subgraphUrlsFromConfig } from './subgraphs';

/** The gateway on its own: `npm run start:gateway`. Stateless; reads schema/supergraph.graphql. */
void runService('gateway', async ({ config, logger, shutdown }) => {
  const gateway = await createGateway({
    supergraphSdl: fs.readFileSync(path.join(projectRoot(), 'schema/supergraph.graphql'), 'utf8'),
    subgraphUrls: subgraphUrlsFromConfig(config),
    // Unset only with JWT_JWKS_URL (runService checks), when HS256 tokens are refused anyway.
    jwt: { secret: config.JWT_SECRET ?? '', issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, clockToleranceSeconds: config.JWT_CLOCK_SKEW_SECONDS },
    jwksUrl: config.JWT_JWKS_URL,
    apiKeyCacheSeconds: config.API_KEY_CACHE_SECONDS,
    internalSecret: config.INTERNAL_SECRET,
    internalTokenTtlSeconds: config.INTERNAL_TOKEN_TTL_SECONDS,
    logger,
    development: config.NODE_ENV !== 'production',
    sandbox: config.SANDBOX,
    corsOrigins: config.CORS_ORIGINS,
    maxBodyBytes: config.MAX_BODY_BYTES,
    limits: limitsFromConfig(config),
    tls: tlsFromConfig(config),
  });
  shutdown.add('apollo', () => gateway.apollo.stop());
  const address = await listen(gateway.server, config.GATEWAY_PORT, config.HOST);
  shutdown.add('http', () => closeServer(gateway.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address, '/graphql', config.TLS_CERT_FILE ? 'https' : 'http');
});
