import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../lib/data-dir';
import { ErrorCode, httpStatusFor } from '../../lib/errors';
import { registry } from '../../lib/metrics';
import { readDoc, section } from '../helpers/markdown';

/**
 * The dashboard and the alert rules against the code: every metric they name exists in
 * lib/metrics.ts (histograms through _bucket, _sum, _count), every metric the code defines is on
 * the dashboard, the error-rate alert leaves out exactly the client codes, and every runbook link
 * lands on a section. promtool (`npm run alerts:check`) checks syntax and behaviour; this checks drift.
 */
const root = projectRoot();
const read = (file: string) => fs.readFileSync(path.join(root, 'observability', file), 'utf8');
const dashboard = JSON.parse(read('grafana/saypro-graph.json')) as {
  schemaVersion: number;
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
  panels: Array<{
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    targets?: Array<{ expr: string; datasource: { uid: string } }>;
  }>;
};
const alertsText = read('prometheus/alerts.yml');
const runbook = read('RUNBOOK.md');

/** The alert blocks of alerts.yml: name, expression and the annotations' text. */
const alerts = alertsText
  .split(/^(?=[ \t]+- alert: )/m)
  .slice(1)
  .map((block) => ({
    name: /- alert: (\w+)/.exec(block)![1]!,
    expr: /expr: (?:\|\n)?([\s\S]*?)\n\s+for:/.exec(block)?.[1] ?? '',
    block,
  }));
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** Metric names in PromQL: an identifier followed by a selector `{` or a range `[`. */
const metricNamesIn = (exprs: string[]) =>
  new Set(exprs.flatMap((e) => [...e.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)].map((m) => m[1]!)));

const defined = new Map<string, string>();
beforeAll(async () => {
  for (const metric of await registry.getMetricsAsJSON()) defined.set(metric.name, String(metric.type));
});
const ours = () => [...defined.keys()].filter((name) => !/^(process|nodejs)_/.test(name));

/** What a series name refers to: a metric of lib/metrics.ts, or Prometheus's own `up`. */
function unknownNames(names: Set<string>): string[] {
  return [...names].filter((name) => {
    if (name === 'up' || defined.has(name)) return false;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return defined.get(base) !== 'histogram';
  });
}

describe('the Grafana dashboard', () => {
  it('names only metrics that lib/metrics.ts defines', () => {
    expect(unknownNames(metricNamesIn(dashboardExprs))).toEqual([]);
  });

  it('shows every metric lib/metrics.ts defines', () => {
    const shown = new Set(
      [...metricNamesIn(dashboardExprs)].map((n) =>
        defined.get(n.replace(/_(bucket|sum|count)$/, '')) === 'histogram' ? n.replace(/_(bucket|sum|count)$/, '') : n,
      ),
    );
    expect(ours().filter((name) => !shown.has(name))).toEqual([]);
  });

  it('takes its Prometheus from the ${datasource} variable, never a fixed uid', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    const uids = dashboard.panels
      .flatMap((p) => [p.datasource?.uid, ...(p.targets ?? []).map((t) => t.datasource.uid)])
      .filter((uid) => uid !== undefined);
    expect(new Set(uids)).toEqual(new Set(['${datasource}']));
  });
});

describe('docs/monitoring.md', () => {
  it('lists every metric lib/metrics.ts defines in its Metrics table, and no other', () => {
    const metricsSection = section(readDoc('docs/monitoring.md'), '## Metrics');
    const listed = [...metricsSection.matchAll(/^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/`([a-z_]+)`/g)].map((n) => n[1]!),
    );
    expect([...listed].sort()).toEqual(ours().sort());
  });
});

describe('the alert rules', () => {
  it('name only metrics that lib/metrics.ts defines', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    expect(unknownNames(metricNamesIn(alerts.map((a) => a.expr)))).toEqual([]);
  });

  it('leave exactly the client codes out of the gateway error rate (and so does the dashboard)', () => {
    // Client codes: our 4xx codes, and the GraphQL parse and validation codes the front door uses.
    const client = [
      ...Object.values(ErrorCode).filter((code) => httpStatusFor(code) < 500),
      'GRAPHQL_PARSE_FAILED',
      'GRAPHQL_VALIDATION_FAILED',
      'BAD_REQUEST',
    ].sort();
    const excluded = (expr: string) => /outcome!~"ok\|([A-Z_|]+)"/.exec(expr)?.[1]?.split('|').sort();
    expect(excluded(alerts.find((a) => a.name === 'GatewayErrorRateHigh')!.expr)).toEqual(client);
    expect(excluded(dashboardExprs.find((e) => e.includes('outcome!~"ok|'))!)).toEqual(client);
    // The server-side codes stay in: they are what the alert is for.
    for (const code of ['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'PROVIDER_UNAVAILABLE'])
      expect(client).not.toContain(code);
  });

  it('each have a for:, a severity, a summary and a description linking its runbook section', () => {
    const sections = new Set([...runbook.matchAll(/^## (\w+)$/gm)].map((m) => m[1]!.toLowerCase()));
    for (const { name, block } of alerts) {
      expect([name, /\n\s+for: \d+[smh]\n/.test(block)]).toEqual([name, true]);
      expect([name, /severity: (critical|warning)\n/.exec(block)?.[1]]).toEqual([
        name,
        expect.stringMatching(/critical|warning/),
      ]);
      expect([name, /summary: "/.test(block)]).toEqual([name, true]);
      expect([name, /Runbook: observability\/RUNBOOK\.md#(\w+)"/.exec(block)?.[1]]).toEqual([name, name.toLowerCase()]);
      expect(sections).toContain(name.toLowerCase());
    }
    // And the runbook has no section for an alert that is gone.
    expect([...sections].sort()).toEqual(alerts.map((a) => a.name.toLowerCase()).sort());
  });
});
