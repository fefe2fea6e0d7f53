/**
 * `npm run bench:gateway`: gateways side by side on one supergraph.
 *
 * Starts four local subgraphs (child processes, free loopback ports), composes their supergraph
 * into a temporary file, then starts each target gateway as its own child process from the same
 * Node binary: `stock` (@apollo/gateway as it comes), `ours-apollo` and `ours-hive` (our gateway,
 * `dist/gateway/main.js`, on each engine with the whole front door on). Every target must answer
 * each workload with the same JSON as the baseline before anything is measured; a target that
 * cannot serve this supergraph yet is reported as unavailable. Then rounds, each target in turn
 * (A B C A B C …): autocannon warm-up, measured window, gateway CPU and RSS from /proc. Prints
 * the tables and writes bench/results/gateway-latest.json. Exits 1 on a differing answer or any
 * failed request; no assertions on the figures.
 */
import { projectRoot } from '../../lib/data-dir';
import { log, runGatewayBench } from './bench';
import { killAll, stopAll } from './children';
import { parseFlags, USAGE, type Flags } from './flags';
import { localFederationGraph } from './graph';
import { sayproGraph } from './saypro-graph';

let flags: Flags;
try {
  flags = parseFlags(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
  process.exit(2);
}

// Bounded in time whatever happens: past the deadline every child is killed and the run fails.
const deadline = setTimeout(() => {
  log(`deadline: still running after ${flags.deadlineSeconds} s, killing everything`);
  killAll();
  process.exit(1);
}, flags.deadlineSeconds * 1000);
deadline.unref();

let interrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted) {
    killAll();
    process.exit(130);
  }
  interrupted = true;
  log(`${signal}: stopping the children (send it again to kill them)`);
  void stopAll().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

runGatewayBench(flags, flags.graph === 'saypro' ? sayproGraph : localFederationGraph, projectRoot())
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  });
