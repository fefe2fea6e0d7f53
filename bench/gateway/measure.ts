import { autocannon, type AutocannonOptions } from './autocannon';
import { cpuSecondsOf, memoryOf } from './proc';
import type { RunningTarget } from './targets';
import type { Workload } from './workloads';

export interface LoadShape {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

/** The subgraph processes, watched during each window so that a bottleneck there shows. */
export interface SubgraphProbe {
  pids: number[];
  /** Requests served so far, summed over all subgraphs. */
  requests(): Promise<number>;
}

/** One measured window: one target, one workload, one round. */
export interface Measurement {
  round: number;
  target: string;
  workload: string;
  requestsPerSec: number;
  requests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  throughputMiBPerSec: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx answers whose body contains `"errors"` (the data never does). */
  errorBodies: number;
  gatewayCpuMsPerRequest: number;
  /** % of one core. */
  gatewayCpuPercent: number;
  subgraphCpuMsPerRequest: number;
  subgraphCpuPercent: number;
  /** Subgraph requests per gateway answer: below the plan's fetch count when an engine deduplicates. */
  subgraphRequestsPerAnswer: number;
  loadGeneratorCpuPercent: number;
  /** Of the gateway process, right after the window. */
  rssMiB: number | null;
  peakRssMiB: number | null;
  warmup: { requestsPerSec: number; non2xx: number; errors: number; errorBodies: number };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** A warm-up, then the measured window with CPU read from /proc around it. */
export async function measure(
  target: RunningTarget,
  workload: Workload,
  shape: LoadShape,
  subgraphs: SubgraphProbe,
  roundNo: number,
): Promise<Measurement> {
  const options = (duration: number): AutocannonOptions => ({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ query: workload.query, variables: workload.variables }),
    connections: shape.connections,
    duration,
    timeout: 10,
    verifyBody: (body) => !body.includes('"errors"'),
  });
  const warm = await autocannon(options(shape.warmupSeconds));

  const subgraphCpu = () => sum(subgraphs.pids.map(cpuSecondsOf));
  const [gw0, sg0, own0, sgRequests0, wall0] = [
    cpuSecondsOf(target.child.pid),
    subgraphCpu(),
    process.cpuUsage(),
    await subgraphs.requests(),
    performance.now(),
  ];
  const r = await autocannon(options(shape.durationSeconds));
  const wallSeconds = (performance.now() - wall0) / 1000;
  const own = process.cpuUsage(own0);
  const gatewayCpu = cpuSecondsOf(target.child.pid) - gw0;
  const subgraphCpuUsed = subgraphCpu() - sg0;
  const subgraphRequests = (await subgraphs.requests()) - sgRequests0;
  const memory = memoryOf(target.child.pid);
  const answers = Math.max(1, r.requests.total);
  return {
    round: roundNo,
    target: target.name,
    workload: workload.name,
    requestsPerSec: round(r.requests.average, 1),
    requests: r.requests.total,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    throughputMiBPerSec: round(r.throughput.average / 1024 / 1024),
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    errorBodies: r.mismatches,
    gatewayCpuMsPerRequest: round((gatewayCpu * 1000) / answers),
    gatewayCpuPercent: round((gatewayCpu / wallSeconds) * 100, 0),
    subgraphCpuMsPerRequest: round((subgraphCpuUsed * 1000) / answers),
    subgraphCpuPercent: round((subgraphCpuUsed / wallSeconds) * 100, 0),
    subgraphRequestsPerAnswer: round(subgraphRequests / answers),
    loadGeneratorCpuPercent: round(((own.user + own.system) / 1e6 / wallSeconds) * 100, 0),
    rssMiB: memory?.rssMiB ?? null,
    peakRssMiB: memory?.peakMiB ?? null,
    warmup: {
      requestsPerSec: round(warm.requests.average, 1),
      non2xx: warm.non2xx,
      errors: warm.errors,
      errorBodies: warm.mismatches,
    },
  };
}
