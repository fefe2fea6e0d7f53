import '../lib/telemetry';
import { closeServer, listen, urlOf } from '../lib/http';
import { createMetricsServer } from '../lib/metrics';
import { runService } from '../lib/service-main';
import { gatewayOptionsFromConfig, readSupergraph } from './options';
import { createGateway } from './server';
import { loadSupergraph, subgraphUrlsOf } from './supergraph';

/**
 * The gateway on its own: `npm run start:gateway`. Stateless; serves SUPERGRAPH_PATH (default
 * schema/supergraph.graphql), each subgraph at its @join__graph URL unless <NAME>_URL is set.
 */
void runService('gateway', async ({ config, logger, shutdown }) => {
  const supergraphSdl = readSupergraph(config);
  const subgraphUrls = subgraphUrlsOf(loadSupergraph(supergraphSdl).subgraphs, process.env);
  const gateway = await createGateway(gatewayOptionsFromConfig(config, { logger, supergraphSdl, subgraphUrls }));
  shutdown.add('engine and rate limits', () => gateway.stop());
  const address = await listen(gateway.server, config.GATEWAY_PORT, config.HOST);
  shutdown.add('http', () => closeServer(gateway.server, config.SHUTDOWN_GRACE_MS));
  if (config.METRICS_ENABLED) {
    const metrics = createMetricsServer(config.METRICS_TOKEN);
    const at = await listen(metrics, config.METRICS_PORT, config.METRICS_HOST);
    shutdown.add('metrics http', () => closeServer(metrics, 0));
    logger.info({ url: urlOf(at, '/metrics') }, 'metrics listening');
  }
  return urlOf(address, '/graphql', config.TLS_CERT_FILE ? 'https' : 'http');
});
