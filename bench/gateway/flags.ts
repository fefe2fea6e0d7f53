import { parseArgs } from 'node:util';

export interface Flags {
  /** federation: four local subgraphs, stock as the baseline; saypro: our own graph on the embedded stack. */
  graph: 'federation' | 'saypro';
  /** stock, ours-apollo, ours-hive, in this order of measurement within a round. */
  targets: string[];
  /** Hive's upstream request deduplication, when our gateway has the GATEWAY_DEDUPE switch. */
  dedupe: Array<'on' | 'off'>;
  workloads: string[];
  rounds: number;
  warmupSeconds: number;
  durationSeconds: number;
  connections: number;
  /** 1: the four subgraphs share one process; 4: one process each. */
  subgraphProcesses: 1 | 4;
  /** Answer a repeated subgraph request body from a cache instead of executing it again. */
  subgraphCache: boolean;
  /** Everything is killed after this, whatever state it is in. */
  deadlineSeconds: number;
}

export const USAGE = `npm run bench:gateway -- [options]
  --graph federation|saypro               four local subgraphs (default), or our own graph on the embedded stack (workload page)
  --targets stock,ours-apollo,ours-hive   which gateways, measured in this order each round (default: these three;
                                          also ours-apollo/metrics-off: ours-apollo with METRICS_ENABLED=false)
  --dedupe on|off|both                    ours-hive with / without upstream deduplication (default: both)
  --workloads heavy,light                 (default: both; page with --graph saypro)
  --rounds N                              interleaved rounds (default: 3, at least 1)
  --warmup S  --duration S                seconds of warm-up and of measurement per window (default: 3 and 10)
  --connections N                         (default: 50)
  --subgraph-processes 1|4                (default: 4, one process per subgraph)
  --subgraph-cache on|off                 subgraphs answer repeated bodies from a cache (default: on)
  --deadline S                            kill everything after S seconds (default: 600)`;

const positive = (name: string, raw: string | undefined, fallback: number) => {
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, not ${raw}`);
  return value;
};
const list = (raw: string | undefined, fallback: string[]) =>
  raw
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : fallback;

export function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      graph: { type: 'string' },
      targets: { type: 'string' },
      dedupe: { type: 'string' },
      workloads: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      'subgraph-processes': { type: 'string' },
      'subgraph-cache': { type: 'string' },
      deadline: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const dedupe = values.dedupe ?? 'both';
  if (!['on', 'off', 'both'].includes(dedupe)) throw new Error(`--dedupe is on, off or both, not ${dedupe}`);
  const graph = values.graph ?? 'federation';
  if (graph !== 'federation' && graph !== 'saypro') throw new Error(`--graph is federation or saypro, not ${graph}`);
  const processes = values['subgraph-processes'] ?? '4';
  if (processes !== '1' && processes !== '4') throw new Error(`--subgraph-processes is 1 or 4, not ${processes}`);
  const cache = values['subgraph-cache'] ?? 'on';
  if (cache !== 'on' && cache !== 'off') throw new Error(`--subgraph-cache is on or off, not ${cache}`);
  return {
    targets: list(values.targets, ['stock', 'ours-apollo', 'ours-hive']),
    dedupe: dedupe === 'both' ? ['on', 'off'] : [dedupe as 'on' | 'off'],
    graph,
    workloads: list(values.workloads, graph === 'saypro' ? ['page'] : ['heavy', 'light']),
    rounds: Math.round(positive('rounds', values.rounds, 3)),
    warmupSeconds: positive('warmup', values.warmup, 3),
    durationSeconds: positive('duration', values.duration, 10),
    connections: Math.round(positive('connections', values.connections, 50)),
    subgraphProcesses: processes === '1' ? 1 : 4,
    subgraphCache: cache === 'on',
    deadlineSeconds: positive('deadline', values.deadline, 600),
  };
}
