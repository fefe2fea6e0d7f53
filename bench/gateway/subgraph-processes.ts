import path from 'node:path';
import { readyPorts, startChild, type Child } from './children';
import type { SubgraphProbe } from './measure';
import type { SubgraphStats } from './subgraphs/serve';
import { BENCH_SUBGRAPHS } from './subgraphs/all';

const SCRIPT = 'dist/bench/gateway/subgraphs/main.js';

/**
 * Starts the benchmark subgraphs, shared by every target of a run: all four in one process, or
 * one process each (so that on a multi-core machine they do not queue behind one event loop).
 */
export async function startSubgraphs(
  root: string,
  { processes, cache }: { processes: 1 | 4; cache: boolean },
  timeoutMs: number,
): Promise<{ ports: Record<string, number>; children: Child[]; probe: SubgraphProbe }> {
  const groups = processes === 1 ? [BENCH_SUBGRAPHS.map((s) => s.name)] : BENCH_SUBGRAPHS.map((s) => [s.name]);
  const children = groups.map((names) =>
    startChild(
      `subgraphs ${names.join('+')}`,
      [path.join(root, SCRIPT), ...names],
      { NODE_ENV: 'production', BENCH_SUBGRAPH_CACHE: cache ? 'on' : 'off' },
      root,
    ),
  );
  const ports = Object.assign({}, ...(await Promise.all(children.map((c) => readyPorts(c, timeoutMs))))) as Record<
    string,
    number
  >;
  const statsUrls = Object.values(ports).map((port) => `http://127.0.0.1:${port}/__bench/stats`);
  const probe: SubgraphProbe = {
    pids: children.map((c) => c.pid),
    async requests() {
      const stats = await Promise.all(
        statsUrls.map(
          async (url) =>
            ((await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json()) as SubgraphStats).requests,
        ),
      );
      return stats.reduce((a, b) => a + b, 0);
    },
  };
  return { ports, children, probe };
}
