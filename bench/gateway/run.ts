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
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../lib/data-dir';
import { killAll, stopAll, stopChild } from './children';
import { parseFlags, USAGE, type Flags } from './flags';
import { localFederationGraph, type BenchGraph } from './graph';
import { measure, type Measurement } from './measure';
import { failuresOf, summarise, withRatios, workloadTable } from './report';
import { isUnavailable, targetSpecs, type RunningTarget, type UnavailableTarget } from './targets';
import { answerOf, firstDifference, unusable } from './verify';
import type { Workload } from './workloads';

const ROOT = projectRoot();
const START_TIMEOUT_MS = 60_000;
const BASELINE = 'stock';
const log = (msg: string) => process.stderr.write(`[bench:gateway] ${msg}\n`);

function machine() {
  const cpus = os.cpus();
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  return { node: process.version, cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), commit: git('rev-parse', '--short', 'HEAD'), loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) };
}

/** Each target's answer to each workload, compared with the baseline's; a target that serves another graph is set aside. */
async function verify(targets: RunningTarget[], workloads: readonly Workload[], unavailable: UnavailableTarget[]): Promise<{ checked: RunningTarget[]; bytes: Record<string, number> }> {
  const [reference, ...others] = targets;
  if (!reference) throw new Error('no target started');
  const expected = new Map<string, unknown>();
  const bytes: Record<string, number> = {};
  for (const w of workloads) {
    const answer = await answerOf(reference, w);
    const problem = unusable(answer, w) ?? (answer.body?.errors ? `errors: ${JSON.stringify(answer.body.errors).slice(0, 300)}` : null);
    if (problem) throw new Error(`${reference.name} cannot serve ${w.name}: ${problem}`);
    expected.set(w.name, answer.body);
    bytes[w.name] = answer.bytes;
  }
  const checked = [reference];
  for (const target of others) {
    let setAside: string | null = null;
    for (const w of workloads) {
      const answer = await answerOf(target, w);
      setAside = unusable(answer, w);
      if (setAside) break;
      const difference = firstDifference(expected.get(w.name), answer.body);
      if (difference) throw new Error(`${target.name} answers ${w.name} differently from ${reference.name}: ${difference}`);
    }
    if (setAside) {
      unavailable.push({ name: target.name, unavailable: `cannot serve the benchmark's supergraph (SUPERGRAPH_PATH not honoured?): ${setAside}` });
      await stopChild(target.child);
    } else checked.push(target);
  }
  return { checked, bytes };
}

async function bench(flags: Flags, graph: BenchGraph): Promise<number> {
  const workloads = flags.workloads.map((name) => graph.workloads.find((w) => w.name === name) ?? failWith(`unknown workload ${name}; workloads are ${graph.workloads.map((w) => w.name).join(', ')}`));
  const { specs, notes } = targetSpecs(flags.targets, flags.dedupe);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-bench-gateway-'));
  // Also on the deadline's and a signal's process.exit, which skip the finally below.
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const before = machine();
  try {
    log(`subgraphs: ${flags.subgraphProcesses} process(es), response cache ${flags.subgraphCache ? 'on' : 'off'}`);
    const { supergraphPath, probe } = await graph.start({ root: ROOT, dir, subgraphProcesses: flags.subgraphProcesses, subgraphCache: flags.subgraphCache, timeoutMs: START_TIMEOUT_MS });
    const started: RunningTarget[] = [];
    const unavailable: UnavailableTarget[] = [];
    for (const spec of specs) {
      log(`starting ${spec.name}`);
      const t = await spec.start({ root: ROOT, supergraphPath, startTimeoutMs: START_TIMEOUT_MS });
      if (isUnavailable(t)) unavailable.push(t);
      else started.push(t);
    }
    for (const u of unavailable) log(`${u.name} unavailable: ${u.unavailable.split('\n')[0]}`);
    const { checked: targets, bytes } = await verify(started, workloads, unavailable);
    log(`identical answers from ${targets.map((t) => t.name).join(', ')} (${Object.entries(bytes).map(([w, b]) => `${w} ${b} bytes`).join(', ')})`);

    const measurements: Measurement[] = [];
    for (let r = 1; r <= flags.rounds; r++) {
      for (const w of workloads) {
        for (const t of targets) {
          const m = await measure(t, w, flags, probe, r);
          log(`round ${r} ${w.name} ${t.name}: ${m.requestsPerSec} req/s, p99 ${m.latencyP99Ms} ms, ${m.gatewayCpuMsPerRequest} ms CPU/req, ${failuresOf(m)} failures`);
          measurements.push(m);
        }
      }
    }

    const rows = withRatios(measurements, BASELINE);
    const summaries = summarise(rows);
    const after = machine();
    const out: string[] = [`gateway benchmark: ${graph.name}; Node ${before.node}, ${before.cores} × ${before.cpu}, commit ${before.commit}`];
    out.push(`${flags.connections} connections, ${flags.warmupSeconds} s warm-up + ${flags.durationSeconds} s measured per window, ${flags.rounds} rounds; load average ${before.loadAverage.join(' ')} before, ${after.loadAverage.join(' ')} after`);
    out.push(`subgraphs: ${flags.subgraphProcesses} process(es), response cache ${flags.subgraphCache ? 'on' : 'off'} (sg CPU %: all subgraph processes, % of one core)`);
    for (const w of workloads) {
      out.push('', `${w.name}: ${w.description} (${bytes[w.name]} bytes)`);
      out.push(workloadTable(rows.filter((r) => r.workload === w.name), summaries.filter((s) => s.workload === w.name)));
    }
    for (const u of unavailable) out.push('', `${u.name}: unavailable: ${u.unavailable}`);
    for (const t of targets) for (const note of t.notes) out.push(`${t.name}: ${note}`);
    for (const t of targets) if (t.child.linesPrinted) out.push(`${t.name} printed ${t.child.linesPrinted} line(s); last: ${t.child.tail.at(-1)}`);
    for (const note of notes) out.push(note);
    const resultsDir = path.join(ROOT, 'bench/results');
    fs.mkdirSync(resultsDir, { recursive: true });
    const file = path.join(resultsDir, 'gateway-latest.json');
    const record = { at: new Date().toISOString(), machine: { ...before, loadAverageAfter: after.loadAverage }, flags, graph: graph.name, answerBytes: bytes, unavailable, notes, summaries, rows };
    fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    out.push('', `results: ${path.relative(process.cwd(), file)}`);
    process.stdout.write(`${out.join('\n')}\n`);
    const failed = rows.filter((r) => failuresOf(r) > 0);
    for (const r of failed) log(`round ${r.round} ${r.workload} ${r.target}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts, ${r.errorBodies} bodies with errors`);
    return failed.length ? 1 : 0;
  } finally {
    await stopAll();
  }
}

function failWith(message: string): never {
  throw new Error(message);
}

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

bench(flags, localFederationGraph)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  });
