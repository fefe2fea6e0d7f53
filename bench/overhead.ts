/**
 * `npm run bench:overhead`: what metrics and tracing cost on our own page. Embedded stacks
 * (`dist/embedded/main.js`), each on its own data folder and loopback ports, alike but for:
 * - `bare`: METRICS_ENABLED=false and no tracing (every metric a no-op, no provider);
 * - `metrics`: the default (metrics recorded, no tracing);
 * - `tracing`: metrics and every span exported over OTLP/HTTP to a sink in this process
 *   (loopback; it counts and drops what it gets);
 * - `unsampled`: metrics and a provider with the `always_off` sampler (context propagation only).
 * VARIANTS picks them (default: all four). All are seeded alike, then loaded in turn with the
 * 50-listing page of `npm run bench`, rounds interleaved with a rotating order so that drift on
 * the machine falls on all. Prints req/s, latency and the stack's CPU per request per round, and
 * the medians' ratios to `bare` and to `metrics`. No assertions: figures for BENCHMARKS.md.
 * BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) is passed to the stacks' Node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mintToken } from '../lib/auth';
import { projectRoot } from '../lib/data-dir';
import { autocannon } from './gateway/autocannon';
import { STACK_PORT_KEYS } from '../lib/config';
import { cpuSecondsOf, freePortsFor } from './gateway/proc';

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const SECONDS = Number(process.env.SECONDS ?? 8);
const CONNECTIONS = 10;
const PAGE = `query Page { listings(first: 50) { edges { node { id title price { amount currency } status seller { id name } } } } }`;
const log = (msg: string) => process.stderr.write(`[bench:overhead] ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The OTLP/HTTP receiving end: answers 200 to every export and counts the spans in it. */
async function startSink() {
  const counts = { exports: 0, spans: 0, bytes: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    counts.exports++;
    counts.bytes += body.length;
    const parsed = JSON.parse(body.toString('utf8')) as {
      resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }>;
    };
    for (const r of parsed.resourceSpans ?? [])
      for (const s of r.scopeSpans ?? []) counts.spans += s.spans?.length ?? 0;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts, close: () => server.close() };
}

interface Stack {
  label: string;
  child: ChildProcess;
  gateway: string;
  dataDir: string;
}

async function startStack(label: string, extra: Record<string, string>): Promise<Stack> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `saypro-bench-${label}-`));
  const ports = await freePortsFor(STACK_PORT_KEYS);
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    APOLLO_TELEMETRY_DISABLED: 'true',
    POSTING_FEES: '{"JOBS":0}',
    RATE_LIMIT_PER_IP: '0',
    RATE_LIMIT_PER_VIEWER: '0',
    METRICS_PORT: '0',
    ENV_FILE: '',
    ...ports,
    ...extra,
  };
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      path.join(projectRoot(), 'dist/embedded/main.js'),
    ],
    {
      cwd: projectRoot(),
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const gateway = `http://127.0.0.1:${ports.GATEWAY_PORT}`;
  for (const deadline = Date.now() + 240_000; ; ) {
    const ok = await fetch(`${gateway}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL'); // not in the list the end of the run stops yet
      throw new Error(`${label} stack did not get ready`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { label, child, gateway: `${gateway}/graphql`, dataDir };
}

async function graphql(url: string, query: string, variables: object, token?: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown };
  if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/** 5 sellers, 50 free (so ACTIVE, public) JOBS listings. */
async function seed(stack: Stack): Promise<void> {
  const { JWT_SECRET } = JSON.parse(fs.readFileSync(path.join(stack.dataDir, 'secrets.json'), 'utf8')) as {
    JWT_SECRET: string;
  };
  const tokens: string[] = [];
  for (let i = 0; i < 5; i++) {
    const { registerUser } = await graphql(
      stack.gateway,
      'mutation R($input: RegisterUserInput!) { registerUser(input: $input) { id } }',
      { input: { name: `Seller ${i}`, email: `seller.${i}@example.com` } },
    );
    tokens.push(await mintToken({ secret: JWT_SECRET, userId: registerUser.id, roles: ['user'] }));
  }
  for (let i = 0; i < 50; i++) {
    const input = {
      title: `Job ${i}`,
      description: `Benchmark listing ${i}, part time.`,
      price: { amount: 10_000 + i, currency: 'USD' },
      category: 'JOBS',
      location: 'Durban',
    };
    await graphql(
      stack.gateway,
      'mutation C($input: CreateListingInput!) { createListing(input: $input) { id } }',
      { input },
      tokens[i % 5],
    );
  }
}

async function measure(stack: Stack, seconds: number) {
  const cpuBefore = cpuSecondsOf(stack.child.pid!);
  const r = await autocannon({
    url: stack.gateway,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: PAGE }),
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 10,
    verifyBody: (body) => !body.includes('"errors"'),
  });
  if (r.non2xx || r.errors || r.mismatches)
    throw new Error(`${stack.label}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.mismatches} with GraphQL errors`);
  const cpuMsPerRequest = ((cpuSecondsOf(stack.child.pid!) - cpuBefore) * 1000) / Math.max(1, r.requests.total);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuMsPerRequest };
}

/** The stacks VARIANTS names, in that order. */
const VARIANTS: Record<string, (sink: string) => Record<string, string>> = {
  bare: () => ({ METRICS_ENABLED: 'false' }),
  metrics: () => ({}),
  tracing: (sink) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: sink }),
  unsampled: (sink) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: sink, OTEL_TRACES_SAMPLER: 'always_off' }),
};

async function main(): Promise<void> {
  const sink = await startSink();
  const stacks: Stack[] = [];
  try {
    const names = (process.env.VARIANTS ?? 'bare,metrics,tracing,unsampled')
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    for (const name of names) {
      const variant = VARIANTS[name];
      if (!variant) throw new Error(`VARIANTS: unknown ${name}; known: ${Object.keys(VARIANTS).join(', ')}`);
      stacks.push(await startStack(name, variant(sink.url)));
    }
    for (const stack of stacks) await seed(stack);
    for (const stack of stacks) await measure(stack, 3); // warm-up
    type Figures = Awaited<ReturnType<typeof measure>>;
    const figures: Record<string, Figures[]> = Object.fromEntries(stacks.map((s) => [s.label, []]));
    const spans0 = sink.counts.spans;
    for (let round = 0; round < ROUNDS; round++) {
      // Each round starts with another stack, so none is always measured first or last.
      for (const stack of [...stacks.slice(round % stacks.length), ...stacks.slice(0, round % stacks.length)]) {
        const f = await measure(stack, SECONDS);
        figures[stack.label]!.push(f);
        log(
          `round ${round + 1} ${stack.label}: ${f.rps.toFixed(0)} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms, ${f.cpuMsPerRequest.toFixed(2)} CPU ms/request`,
        );
      }
    }
    const summary = Object.fromEntries(
      Object.entries(figures).map(([k, v]) => [
        k,
        {
          rps: median(v.map((f) => f.rps)),
          p50: median(v.map((f) => f.p50)),
          p99: median(v.map((f) => f.p99)),
          cpuMsPerRequest: median(v.map((f) => f.cpuMsPerRequest)),
        },
      ]),
    );
    const ratiosTo = (base: string) =>
      summary[base] &&
      Object.fromEntries(
        Object.entries(summary).map(([k, v]) => [
          k,
          {
            rps: v.rps / summary[base]!.rps,
            cpuMsPerRequest: v.cpuMsPerRequest / summary[base]!.cpuMsPerRequest,
            p99: v.p99 / summary[base]!.p99,
          },
        ]),
      );
    // Per round, the same ratio: its spread says how much of the median's ratio is noise.
    const perRound = (label: string, base: string) =>
      figures[label] && figures[base] && figures[label]!.map((f, i) => f.rps / figures[base]![i]!.rps);
    const traced = figures.tracing ?? [];
    const requestsTraced = traced.reduce((n, f) => n + f.rps * SECONDS, 0);
    console.log(
      JSON.stringify(
        {
          node: process.version,
          rounds: ROUNDS,
          seconds: SECONDS,
          connections: CONNECTIONS,
          ...summary,
          ratioToBare: ratiosTo('bare'),
          ratioToMetrics: ratiosTo('metrics'),
          roundRatios: { metricsToBare: perRound('metrics', 'bare'), tracingToMetrics: perRound('tracing', 'metrics') },
          exported: {
            ...sink.counts,
            spansPerRequest: requestsTraced ? (sink.counts.spans - spans0) / requestsTraced : 0,
          },
        },
        null,
        2,
      ),
    );
  } finally {
    for (const stack of stacks) stack.child.kill('SIGTERM');
    sink.close();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
