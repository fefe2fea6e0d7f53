import type { Measurement } from './measure';

/** A measurement with its ratios to the baseline measured in the same round (null without one). */
export interface Row extends Measurement {
  requestsPerSecVsStock: number | null;
  cpuPerRequestVsStock: number | null;
}

/** The median over rounds of one target on one workload. */
export interface Summary {
  target: string;
  workload: string;
  rounds: number;
  requestsPerSec: number;
  requestsPerSecVsStock: number | null;
  latencyP50Ms: number;
  latencyP99Ms: number;
  gatewayCpuMsPerRequest: number;
  cpuPerRequestVsStock: number | null;
  gatewayCpuPercent: number;
  peakRssMiB: number | null;
  subgraphCpuPercent: number;
  subgraphRequestsPerAnswer: number;
  failures: number;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const failuresOf = (m: Measurement) => m.non2xx + m.errors + m.timeouts + m.errorBodies;

/** Ratios within a round only: the machine is shared, so rounds are compared to themselves. */
export function withRatios(measurements: Measurement[], baseline: string): Row[] {
  return measurements.map((m) => {
    const base = measurements.find((b) => b.target === baseline && b.round === m.round && b.workload === m.workload);
    return {
      ...m,
      requestsPerSecVsStock: base?.requestsPerSec ? round(m.requestsPerSec / base.requestsPerSec) : null,
      cpuPerRequestVsStock: base?.gatewayCpuMsPerRequest
        ? round(m.gatewayCpuMsPerRequest / base.gatewayCpuMsPerRequest)
        : null,
    };
  });
}

export function summarise(rows: Row[]): Summary[] {
  const keys = [...new Set(rows.map((r) => `${r.workload}\u0000${r.target}`))];
  return keys.map((key) => {
    const group = rows.filter((r) => `${r.workload}\u0000${r.target}` === key);
    const med = (pick: (r: Row) => number) => round(median(group.map(pick)));
    const ratio = (pick: (r: Row) => number | null) =>
      group.every((r) => pick(r) !== null) ? med((r) => pick(r)!) : null;
    const peaks = group.map((r) => r.peakRssMiB).filter((p): p is number => p !== null);
    return {
      target: group[0]!.target,
      workload: group[0]!.workload,
      rounds: group.length,
      requestsPerSec: med((r) => r.requestsPerSec),
      requestsPerSecVsStock: ratio((r) => r.requestsPerSecVsStock),
      latencyP50Ms: med((r) => r.latencyP50Ms),
      latencyP99Ms: med((r) => r.latencyP99Ms),
      gatewayCpuMsPerRequest: med((r) => r.gatewayCpuMsPerRequest),
      cpuPerRequestVsStock: ratio((r) => r.cpuPerRequestVsStock),
      gatewayCpuPercent: med((r) => r.gatewayCpuPercent),
      peakRssMiB: peaks.length ? Math.max(...peaks) : null,
      subgraphCpuPercent: med((r) => r.subgraphCpuPercent),
      subgraphRequestsPerAnswer: med((r) => r.subgraphRequestsPerAnswer),
      failures: group.reduce((n, r) => n + failuresOf(r), 0),
    };
  });
}

const n = (v: number | null | undefined, suffix = '') => (v === null || v === undefined ? '—' : `${v}${suffix}`);

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '))
    .join('\n');
}

const header = (baseline: string) => [
  'target',
  'round',
  'req/s',
  `×${baseline}`,
  'p50 ms',
  'p99 ms',
  'gw CPU ms/req',
  `×${baseline}`,
  'gw CPU %',
  'gw RSS/peak MiB',
  'sg CPU %',
  'sg req/answer',
  'load gen CPU %',
  'failures',
];

/** The per-round table of one workload, then its medians; ratios are to `baseline` in the same round. */
export function workloadTable(rows: Row[], summaries: Summary[], baseline: string): string {
  const lines = [header(baseline)];
  for (const r of rows) {
    lines.push([
      r.target,
      String(r.round),
      String(r.requestsPerSec),
      n(r.requestsPerSecVsStock),
      String(r.latencyP50Ms),
      String(r.latencyP99Ms),
      String(r.gatewayCpuMsPerRequest),
      n(r.cpuPerRequestVsStock),
      String(r.gatewayCpuPercent),
      `${n(r.rssMiB)}/${n(r.peakRssMiB)}`,
      String(r.subgraphCpuPercent),
      String(r.subgraphRequestsPerAnswer),
      String(r.loadGeneratorCpuPercent),
      String(failuresOf(r)),
    ]);
  }
  for (const s of summaries) {
    lines.push([
      s.target,
      'median',
      String(s.requestsPerSec),
      n(s.requestsPerSecVsStock),
      String(s.latencyP50Ms),
      String(s.latencyP99Ms),
      String(s.gatewayCpuMsPerRequest),
      n(s.cpuPerRequestVsStock),
      String(s.gatewayCpuPercent),
      `peak ${n(s.peakRssMiB)}`,
      String(s.subgraphCpuPercent),
      String(s.subgraphRequestsPerAnswer),
      '',
      String(s.failures),
    ]);
  }
  return table(lines);
}
