import fs from 'node:fs';
import path from 'node:path';
import type { Flags } from './flags';
import type { Machine } from './machine';
import { summarise, withRatios, workloadTable } from './report';
import type { Measurement } from './measure';
import type { RunningTarget, UnavailableTarget } from './targets';
import type { Workload } from './workloads';

export interface RunRecord {
  graph: string;
  flags: Flags;
  machine: { before: Machine; after: Machine };
  workloads: readonly Workload[];
  answerBytes: Record<string, number>;
  targets: RunningTarget[];
  unavailable: UnavailableTarget[];
  notes: string[];
  measurements: Measurement[];
}

/**
 * Prints the tables and writes `bench/results/gateway-latest.json`; returns the rows with their
 * ratios, to stock @apollo/gateway, or to the first target measured where stock cannot serve the graph.
 */
export function writeReport(run: RunRecord, root: string): ReturnType<typeof withRatios> {
  const baseline = run.targets.find((t) => t.name === 'stock')?.name ?? run.targets[0]?.name ?? 'stock';
  const rows = withRatios(run.measurements, baseline);
  const summaries = summarise(rows);
  const { before, after } = run.machine;
  const { flags } = run;
  const out = [
    `gateway benchmark: ${run.graph}; Node ${before.node}, ${before.cores} × ${before.cpu}, commit ${before.commit}`,
    `${flags.connections} connections, ${flags.warmupSeconds} s warm-up + ${flags.durationSeconds} s measured per window, ${flags.rounds} rounds; load average ${before.loadAverage.join(' ')} before, ${after.loadAverage.join(' ')} after`,
    `subgraphs: ${flags.subgraphProcesses} process(es), response cache ${flags.subgraphCache ? 'on' : 'off'} (CPU %: of one core; sg: the subgraph processes together)`,
  ];
  for (const w of run.workloads) {
    out.push('', `${w.name}: ${w.description} (${run.answerBytes[w.name]} bytes)`);
    out.push(
      workloadTable(
        rows.filter((r) => r.workload === w.name),
        summaries.filter((s) => s.workload === w.name),
        baseline,
      ),
    );
  }
  for (const u of run.unavailable) out.push('', `${u.name}: unavailable: ${u.unavailable}`);
  for (const t of run.targets) for (const note of t.notes) out.push(`${t.name}: ${note}`);
  for (const t of run.targets)
    if (t.child.linesPrinted)
      out.push(`${t.name} printed ${t.child.linesPrinted} line(s); last: ${t.child.tail.at(-1)}`);
  out.push(...run.notes);

  const dir = path.join(root, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'gateway-latest.json');
  const record = {
    at: new Date().toISOString(),
    graph: run.graph,
    baseline,
    machine: run.machine,
    flags,
    answerBytes: run.answerBytes,
    targets: run.targets.map((t) => ({
      name: t.name,
      engineReported: t.engineReported ?? null,
      notes: t.notes,
      linesPrinted: t.child.linesPrinted,
    })),
    unavailable: run.unavailable,
    notes: run.notes,
    summaries,
    rows,
  };
  fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  out.push('', `results: ${path.relative(process.cwd(), file)}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return rows;
}
