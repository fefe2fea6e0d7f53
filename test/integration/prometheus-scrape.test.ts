import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../../lib/data-dir';
import { ChargeListingDocument } from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { freePort } from '../helpers/processes';
import { scrape, total } from '../helpers/prometheus-text';
import { systemTool } from '../helpers/system-tool';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * The exposition format proven with its real consumer (issue 13): Debian's Prometheus server
 * scrapes the embedded stack's metrics listener (with the bearer token), loads the checked-in
 * alert rules, and PromQL over what it scraped counts the charges made through the gateway.
 * The server comes from Debian (`apt-get install -y prometheus`), or PROMETHEUS_PATH.
 */
const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
const tool = systemTool({
  what: 'The Prometheus server',
  path: PROMETHEUS,
  install: 'apt-get install -y prometheus',
  env: 'PROMETHEUS_PATH',
});
/** Skipped, with a notice, where the program is missing (unless REQUIRE_SYSTEM_TOOLS=true). */
const maybeIt = tool.runs ? it : it.skip;
const RULES = path.join(projectRoot(), 'observability/prometheus/alerts.yml');
const DASHBOARD = path.join(projectRoot(), 'observability/grafana/saypro-graph.json');
const TOKEN = 'prometheus-scrape-token-0123456789';
const CHARGES = 3;

let stack: TestStack;
let ada: TestUser;
let prometheus: ChildProcess | undefined;
let prometheusUrl: string;
let prometheusLog = '';
let dir: string;

/** One PromQL instant query over the HTTP API; throws with Prometheus's error if it refused it. */
async function query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: promql })}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  if (body.status !== 'success') throw new Error(`Prometheus refused ${promql}: ${body.error}`);
  return body.data!.resultType === 'vector' ? body.data!.result : [];
}
const scalar = async (promql: string): Promise<number | undefined> => {
  const result = await query(promql);
  return result.length === 1 ? Number(result[0]!.value[1]) : undefined;
};

beforeAll(async () => {
  if (!tool.runs) return;
  tool.check();
  stack = await startTestStack({ METRICS_TOKEN: TOKEN });
  ada = await registerUser(stack, 'Ada Prometheus');

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-prometheus-'));
  const tokenFile = path.join(dir, 'metrics-token');
  fs.writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
  const target = new URL(stack.urls.metrics!);
  // JSON is YAML: no YAML writer needed.
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: [RULES],
    scrape_configs: [
      {
        job_name: 'saypro-embedded',
        metrics_path: target.pathname,
        static_configs: [{ targets: [target.host] }],
        authorization: { type: 'Bearer', credentials_file: tokenFile },
      },
      // The same listener without the token: Prometheus must see it refused.
      { job_name: 'without-token', metrics_path: target.pathname, static_configs: [{ targets: [target.host] }] },
    ],
  };
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));

  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout!.on('data', (d: Buffer) => (prometheusLog += d.toString()));
  prometheus.stderr!.on('data', (d: Buffer) => (prometheusLog += d.toString()));
  const proc = prometheus;
  const ready = await eventually(
    async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited with ${proc.exitCode}:\n${prometheusLog}`);
      return fetch(`${prometheusUrl}/-/ready`).then(
        (r) => r.status,
        () => 0,
      );
    },
    (status) => status === 200,
    30_000,
  );
  expect(ready).toBe(200);
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
    const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
    prometheus.kill('SIGTERM');
    const timer = setTimeout(() => prometheus!.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await stack?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

maybeIt('scrapes the stack with the token (up == 1) and is refused without it', async () => {
  expect(
    await eventually(
      () => scalar('up{job="saypro-embedded"}'),
      (up) => up === 1,
    ),
  ).toBe(1);
  expect(
    await eventually(
      () => scalar('up{job="without-token"}'),
      (up) => up === 0,
    ),
  ).toBe(0);
  const targets = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as {
    data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> };
  };
  const byJob = Object.fromEntries(targets.data.activeTargets.map((t) => [t.labels.job, t]));
  expect(byJob['saypro-embedded']).toMatchObject({ health: 'up', lastError: '' });
  expect(byJob['without-token']).toMatchObject({ health: 'down' });
  expect(byJob['without-token']!.lastError).toMatch(/401/);
});

maybeIt('counts the charges made through the gateway, as PromQL over the scraped series', async () => {
  // A fresh stack: nothing charged yet, so what Prometheus ends up with is exactly what is done here.
  expect(total(await scrape(stack.urls.metrics!, TOKEN), 'payments_charges_total', { outcome: 'succeeded' })).toBe(0);
  let charged = 0;
  for (let i = 0; i < CHARGES; i++) {
    const listing = await createListing(stack, ada);
    const charge = dataOf(
      await stack.graph(
        ChargeListingDocument,
        { input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: `prom-${randomUUID()}` } },
        { token: ada.token },
      ),
    ).chargeListing;
    expect(charge.status).toBe('SUCCEEDED');
    charged += charge.amount;
  }

  // Payments counts a charge before its answer reaches the gateway, which counts the operation
  // after: a scrape may fall in between, so wait for a scrape that has both.
  const seen = await eventually(
    async () => ({
      charges: await scalar('sum(payments_charges_total{job="saypro-embedded",outcome="succeeded"})'),
      operations: await scalar(
        'sum(graphql_operations_total{job="saypro-embedded",operation_name="ChargeListing",outcome="ok"})',
      ),
    }),
    (n) => n.charges === CHARGES && n.operations === CHARGES,
    30_000,
  );
  expect(seen).toEqual({ charges: CHARGES, operations: CHARGES });
  expect(await scalar('sum(payments_charged_amount_total{job="saypro-embedded",currency="USD"})')).toBe(charged);
  // Histograms arrive as real Prometheus histograms: a quantile over their buckets is a number.
  const p95 = await scalar(
    'histogram_quantile(0.95, sum by (le) (graphql_operation_duration_seconds_bucket{job="saypro-embedded",operation_name="ChargeListing"}))',
  );
  expect(p95).toBeGreaterThan(0);
  expect(await scalar('max(provider_circuit_state{job="saypro-embedded",provider="stripe",state="closed"})')).toBe(1);
});

maybeIt('loads every alert rule of observability/prometheus/alerts.yml and evaluates each without error', async () => {
  type Rule = { name: string; type: string; health: string; lastError?: string; labels?: Record<string, string> };
  const rules = async () => {
    const body = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ name: string; file: string; rules: Rule[] }> };
    };
    return body.data.groups;
  };
  const groups = await eventually(
    rules,
    (gs) => gs.length > 0 && gs.every((g) => g.rules.every((r) => r.health !== 'unknown')),
  );
  // The API lists groups by name, not in file order.
  expect(groups.map((g) => g.name).sort()).toEqual([
    'saypro-gateway',
    'saypro-payments',
    'saypro-pipelines',
    'saypro-providers',
  ]);
  expect(new Set(groups.map((g) => g.file))).toEqual(new Set([RULES]));
  const all = groups.flatMap((g) => g.rules);
  const declared = [...fs.readFileSync(RULES, 'utf8').matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]);
  expect(all.map((r) => r.name).sort()).toEqual(declared.sort());
  expect(all).toHaveLength(declared.length); // each declared rule once
  expect(all.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
  for (const rule of all) expect(['critical', 'warning']).toContain(rule.labels?.severity);
});

maybeIt('runs every query of the Grafana dashboard', async () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
    panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
  expect(exprs.length).toBeGreaterThan(40);
  // Grafana's variables, as Grafana would fill them in.
  const filled = (expr: string) =>
    expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replaceAll('$job', 'saypro-embedded');
  const refused: string[] = [];
  for (const { panel, expr } of exprs)
    await query(filled(expr)).catch((err: Error) => refused.push(`${panel}: ${err.message}`));
  expect(refused).toEqual([]);
  // And they read what was scraped: the circuit panel (0 closed, 1 half open, 2 open) shows Stripe closed.
  const circuits = await query(filled(exprs.find((e) => e.panel === 'Circuit state')!.expr));
  expect(circuits.find((s) => s.metric.provider === 'stripe')?.value[1]).toBe('0');
});
