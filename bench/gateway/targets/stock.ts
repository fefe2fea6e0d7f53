// Before @apollo/gateway loads: it would otherwise send usage telemetry.
process.env.APOLLO_TELEMETRY_DISABLED = 'true';
import fs from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { exitWithRunner, reportReady } from '../child-ipc';

/**
 * The baseline: stock @apollo/gateway on the benchmark's supergraph (SUPERGRAPH_PATH), its
 * default fetcher and data sources, in Apollo Server's standalone HTTP server. Nothing added.
 */
async function main() {
  const supergraphPath = process.env.SUPERGRAPH_PATH;
  if (!supergraphPath) throw new Error('SUPERGRAPH_PATH is not set');
  const server = new ApolloServer({
    gateway: new ApolloGateway({ supergraphSdl: fs.readFileSync(supergraphPath, 'utf8') }),
    // exitWithRunner owns the signals, so that a closed IPC channel stops the server too.
    stopOnTerminationSignals: false,
  });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  exitWithRunner(() => server.stop());
  reportReady({ gateway: Number(new URL(url).port) });
}

main().catch((err: unknown) => {
  process.stderr.write(`[stock] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
