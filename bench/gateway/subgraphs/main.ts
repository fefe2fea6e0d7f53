import { parse } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { exitWithRunner, reportReady } from '../child-ipc';
import { BENCH_SUBGRAPHS } from './all';
import { createSubgraphServer, listenOnFreePort } from './serve';

/**
 * Child process serving the benchmark subgraphs named in argv (all four without arguments), each
 * on its own free loopback port; reports the ports to the runner over IPC. BENCH_SUBGRAPH_CACHE=off
 * executes every request instead of answering repeated bodies from the response cache.
 */
async function main() {
  const wanted = process.argv.slice(2);
  const chosen = wanted.length ? BENCH_SUBGRAPHS.filter((s) => wanted.includes(s.name)) : BENCH_SUBGRAPHS;
  const cacheResponses = process.env.BENCH_SUBGRAPH_CACHE !== 'off';
  const servers = chosen.map((s) => ({
    name: s.name,
    ...createSubgraphServer(
      buildSubgraphSchema({ typeDefs: parse(s.typeDefs), resolvers: s.resolvers }),
      cacheResponses,
    ),
  }));
  const ports: Record<string, number> = {};
  for (const s of servers) ports[s.name] = await listenOnFreePort(s.server);
  exitWithRunner(() => {
    for (const s of servers) s.server.closeAllConnections();
    return Promise.all(servers.map((s) => new Promise((resolve) => s.server.close(resolve)))).then(() => undefined);
  });
  reportReady(ports);
}

main().catch((err: unknown) => {
  process.stderr.write(`[subgraphs] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
