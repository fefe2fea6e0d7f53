import path from 'node:path';
import { mintToken, type Role } from '../../lib/auth';
import { CONFIG_KEYS } from '../../lib/config';
import { describeExit, readyPorts, gatewayNodeArgs, startChild, type Child } from './children';
import type { BenchGraph } from './graph';
import { freePort } from './proc';

/** A gateway under test, started and answering. */
export interface RunningTarget {
  name: string;
  url: string;
  /** Sent with every request (our gateway: a valid JWT, so sign-in and the per-viewer limit run). */
  headers: Record<string, string>;
  child: Child;
  /** What the target said about its engine, when it says (`/health/live` → `engine`). */
  engineReported?: string;
  notes: string[];
}

/** A target that could not be measured, and why (a feature not landed yet, a crash at start). */
export interface UnavailableTarget {
  name: string;
  unavailable: string;
}

export interface TargetContext {
  root: string;
  supergraphPath: string;
  startTimeoutMs: number;
}

export interface TargetSpec {
  name: string;
  start(ctx: TargetContext): Promise<RunningTarget | UnavailableTarget>;
}

const secret40 = (label: string) => `bench-${label}-`.padEnd(40, 'x');
/** The secrets our gateway targets run with (and the embedded stack behind `--graph saypro`). */
export const BENCH_SECRETS = { jwt: secret40('jwt'), internal: secret40('internal') };
const JWT_SECRET = BENCH_SECRETS.jwt;
const INTERNAL_SECRET = BENCH_SECRETS.internal;
const READY_POLL_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every variable our gateway reads that the benchmark sets: production mode, limits that let the load through. */
export function oursEnv(
  supergraphPath: string,
  port: number,
  engine: 'apollo' | 'hive',
  dedupe?: boolean,
): NodeJS.ProcessEnv {
  return {
    SUPERGRAPH_PATH: supergraphPath,
    GATEWAY_ENGINE: engine,
    GATEWAY_PORT: String(port),
    HOST: '127.0.0.1',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    JWT_SECRET,
    INTERNAL_SECRET,
    APOLLO_TELEMETRY_DISABLED: 'true',
    // One client sending far past any per-client rate: high limits, not off, so the limiter still runs.
    RATE_LIMIT_PER_IP: '100000000',
    RATE_LIMIT_PER_VIEWER: '100000000',
    // The heavy query nests lists without page arguments four deep (20 each in our cost model).
    GRAPHQL_MAX_COST: '1000000000',
    GRAPHQL_MAX_DEPTH: '20',
    ...(dedupe === undefined ? {} : { GATEWAY_DEDUPE: String(dedupe) }),
  };
}

/** Polls `{ __typename }` until it answers 200; the error says why not (exit, timeout). */
async function waitAnswering(
  child: Child,
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<string | null> {
  const t0 = Date.now();
  for (;;) {
    if (child.exit) return describeExit(child);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: '{ __typename }' }),
        signal: AbortSignal.timeout(2000),
      });
      await res.arrayBuffer();
      if (res.status === 200) return null;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - t0 > timeoutMs)
      return `${child.label}: no 200 to { __typename } after ${timeoutMs} ms:\n${child.tail.join('\n')}`;
    await sleep(READY_POLL_MS);
  }
}

async function engineOf(baseUrl: string): Promise<string | undefined> {
  try {
    const res = await fetch(new URL('/health/live', baseUrl), { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { engine?: unknown };
    return typeof body.engine === 'string' ? body.engine : undefined;
  } catch {
    return undefined;
  }
}

const resolvable = (id: string, root: string) => {
  try {
    require.resolve(id, { paths: [root] });
    return true;
  } catch {
    return false;
  }
};

/** The baseline: bench/gateway/targets/stock.ts, which reports its port over IPC. */
export const stockTarget: TargetSpec = {
  name: 'stock',
  async start(ctx) {
    const child = startChild(
      'stock',
      [...gatewayNodeArgs(), path.join(ctx.root, 'dist/bench/gateway/targets/stock.js')],
      { SUPERGRAPH_PATH: ctx.supergraphPath, NODE_ENV: 'production' },
      ctx.root,
    );
    const ports = await readyPorts(child, ctx.startTimeoutMs);
    const url = `http://127.0.0.1:${ports.gateway}/`;
    const problem = await waitAnswering(child, url, {}, ctx.startTimeoutMs);
    if (problem) throw new Error(problem);
    return { name: 'stock', url, headers: {}, child, notes: [] };
  },
};

/** Our gateway (`node dist/gateway/main.js`) on one engine, with the whole front door on. */
export function oursTarget(
  name: string,
  engine: 'apollo' | 'hive',
  dedupe?: boolean,
  roles: Role[] = ['user'],
  extraEnv: Record<string, string> = {},
): TargetSpec {
  return {
    name,
    async start(ctx) {
      if (engine === 'hive' && !resolvable('@graphql-hive/gateway-runtime', ctx.root)) {
        return { name, unavailable: '@graphql-hive/gateway-runtime is not installed (GATEWAY_ENGINE=hive not landed)' };
      }
      const port = await freePort();
      const child = startChild(
        name,
        [...gatewayNodeArgs(), path.join(ctx.root, 'dist/gateway/main.js')],
        { ...oursEnv(ctx.supergraphPath, port, engine, dedupe), ...extraEnv },
        ctx.root,
      );
      const headers = {
        authorization: `Bearer ${await mintToken({ secret: JWT_SECRET, userId: '00000000-0000-4000-8000-00000000b0b0', roles, expiresIn: '2h' })}`,
      };
      const url = `http://127.0.0.1:${port}/graphql`;
      const problem = await waitAnswering(child, url, headers, ctx.startTimeoutMs);
      if (problem) return { name, unavailable: `did not start: ${problem}` };
      const engineReported = await engineOf(url);
      if (engineReported && engineReported !== engine)
        return { name, unavailable: `asked for GATEWAY_ENGINE=${engine}, /health/live says ${engineReported}` };
      const notes = engineReported
        ? []
        : [`engine not confirmed (/health/live has no "engine"; GATEWAY_ENGINE=${engine} was set)`];
      return { name, url, headers, child, engineReported, notes };
    },
  };
}

/** Whether our gateway's configuration knows GATEWAY_DEDUPE (an unknown variable would be ignored silently). */
export const dedupeSwitchExists = () => (CONFIG_KEYS as string[]).includes('GATEWAY_DEDUPE');

/**
 * The targets `--targets` may name. `ours-hive` is measured once per `--dedupe` setting when our
 * gateway has the switch (`ours-hive/dedupe-on`, `ours-hive/dedupe-off`), once with its default otherwise.
 */
export function targetSpecs(
  names: string[],
  dedupe: Array<'on' | 'off'>,
  graph: Pick<BenchGraph, 'viewerRoles' | 'stockUnavailable'> = {},
): { specs: TargetSpec[]; notes: string[] } {
  const specs: TargetSpec[] = [];
  const notes: string[] = [];
  const roles = graph.viewerRoles ?? ['user'];
  for (const name of names) {
    if (name === 'stock' && graph.stockUnavailable)
      specs.push({ name, start: async () => ({ name, unavailable: graph.stockUnavailable! }) });
    else if (name === 'stock') specs.push(stockTarget);
    else if (name === 'ours-apollo') specs.push(oursTarget(name, 'apollo', undefined, roles));
    // The same gateway with metrics recording off: the overhead of metrics is the ratio of the two.
    else if (name === 'ours-apollo/metrics-off')
      specs.push(oursTarget(name, 'apollo', undefined, roles, { METRICS_ENABLED: 'false' }));
    else if (name === 'ours-hive' && dedupeSwitchExists())
      for (const d of dedupe) specs.push(oursTarget(`ours-hive/dedupe-${d}`, 'hive', d === 'on', roles));
    else if (name === 'ours-hive') {
      specs.push(oursTarget(name, 'hive', undefined, roles));
      notes.push('GATEWAY_DEDUPE is not in lib/config.ts: ours-hive measured once, with its default deduplication');
    } else
      throw new Error(`unknown target ${name}; targets are stock, ours-apollo, ours-apollo/metrics-off, ours-hive`);
  }
  return { specs, notes };
}

export const isUnavailable = (t: RunningTarget | UnavailableTarget): t is UnavailableTarget => 'unavailable' in t;
