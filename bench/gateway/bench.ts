import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopAll } from './children';
import type { Flags } from './flags';
import type { BenchGraph } from './graph';
import { machine } from './machine';
import { measure, type Measurement, type SubgraphProbe } from './measure';
import { writeReport } from './output';
import { failuresOf } from './report';
import { isUnavailable, targetSpecs, type RunningTarget, type TargetSpec, type UnavailableTarget } from './targets';
import { verifyTargets } from './verify';
import type { Workload } from './workloads';

const START_TIMEOUT_MS = 60_000;
export const log = (msg: string) => process.stderr.write(`[bench:gateway] ${msg}\n`);

/** One at a time: on two cores, starting gateways side by side would slow each other's start. */
async function startTargets(specs: TargetSpec[], root: string, supergraphPath: string) {
  const started: RunningTarget[] = [];
  const unavailable: UnavailableTarget[] = [];
  for (const spec of specs) {
    log(`starting ${spec.name}`);
    const t = await spec.start({ root, supergraphPath, startTimeoutMs: START_TIMEOUT_MS });
    if (isUnavailable(t)) {
      log(`${t.name} unavailable: ${t.unavailable.split('\n')[0]}`);
      unavailable.push(t);
    } else started.push(t);
  }
  return { started, unavailable };
}

/** A B C, A B C, …: each round measures every target on every workload, in the same order. */
async function runRounds(
  flags: Flags,
  workloads: Workload[],
  targets: RunningTarget[],
  probe: SubgraphProbe,
): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (let r = 1; r <= flags.rounds; r++) {
    for (const w of workloads) {
      for (const t of targets) {
        const m = await measure(t, w, flags, probe, r);
        log(
          `round ${r} ${w.name} ${t.name}: ${m.requestsPerSec} req/s, p99 ${m.latencyP99Ms} ms, ${m.gatewayCpuMsPerRequest} ms CPU/req, ${failuresOf(m)} failures`,
        );
        measurements.push(m);
      }
    }
  }
  return measurements;
}

/**
 * One benchmark run over `graph`: its subgraphs, the targets, the answer check, the interleaved
 * rounds, the report. The hook for other graphs (our own, for the 50-listing page): call it with
 * another BenchGraph. Resolves with the exit code: 1 when any request failed.
 */
export async function runGatewayBench(flags: Flags, graph: BenchGraph, root: string): Promise<number> {
  const workloads = flags.workloads.map((name) => {
    const w = graph.workloads.find((g) => g.name === name);
    if (!w) throw new Error(`unknown workload ${name}; workloads are ${graph.workloads.map((g) => g.name).join(', ')}`);
    return w;
  });
  const { specs, notes } = targetSpecs(flags.targets, flags.dedupe, graph);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-bench-gateway-'));
  // Also on the deadline's and a signal's process.exit, which skip the finally below.
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const before = machine(root);
  try {
    log(`subgraphs: ${flags.subgraphProcesses} process(es), response cache ${flags.subgraphCache ? 'on' : 'off'}`);
    const { supergraphPath, probe } = await graph.start({
      root,
      dir,
      subgraphProcesses: flags.subgraphProcesses,
      subgraphCache: flags.subgraphCache,
      timeoutMs: START_TIMEOUT_MS,
    });
    const { started, unavailable } = await startTargets(specs, root, supergraphPath);
    const { checked: targets, bytes } = await verifyTargets(started, workloads, unavailable);
    log(
      `identical answers from ${targets.map((t) => t.name).join(', ')} (${Object.entries(bytes)
        .map(([w, b]) => `${w} ${b} bytes`)
        .join(', ')})`,
    );
    const measurements = await runRounds(flags, workloads, targets, probe);
    const run = {
      graph: graph.name,
      flags,
      machine: { before, after: machine(root) },
      workloads,
      answerBytes: bytes,
      targets,
      unavailable,
      notes,
      measurements,
    };
    const failed = writeReport(run, root).filter((r) => failuresOf(r) > 0);
    for (const r of failed)
      log(
        `round ${r.round} ${r.workload} ${r.target}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts, ${r.errorBodies} bodies with errors`,
      );
    return failed.length ? 1 : 0;
  } finally {
    await stopAll();
  }
}
