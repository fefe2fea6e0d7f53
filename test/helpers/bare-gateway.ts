import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../lib/config';
import { projectRoot } from '../../lib/data-dir';
import { closeServer, listen, urlOf } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { limitsFromConfig } from '../../gateway/limits/limits-config';
import { createGateway, type GatewayOptions } from '../../gateway/server';
import { ENGINE_UNDER_TEST } from './engine';

/**
 * A gateway of its own on a free loopback port, for what the gateway decides alone (sign-in,
 * limits, TLS). Without subgraph URLs it answers `{ __typename }` and nothing that needs one.
 */
export async function startBareGateway(overrides: Partial<GatewayOptions> = {}) {
  const gateway = await createGateway({
    supergraphSdl: fs.readFileSync(path.join(projectRoot(), 'schema/supergraph.graphql'), 'utf8'),
    subgraphUrls: {},
    jwt: { secret: 's'.repeat(40) },
    internalSecret: 'i'.repeat(40),
    internalTokenTtlSeconds: 60,
    logger: createLogger({ level: 'silent' }),
    development: true,
    corsOrigins: [],
    maxBodyBytes: 65536,
    limits: limitsFromConfig(loadConfig({ NODE_ENV: 'test' })),
    engine: ENGINE_UNDER_TEST,
    ...overrides,
  });
  const url = urlOf(await listen(gateway.server, 0, '127.0.0.1'), '/graphql', overrides.tls ? 'https' : 'http');
  return {
    url,
    gateway,
    stop: async () => {
      await closeServer(gateway.server, 10);
      await gateway.stop();
    },
  };
}
