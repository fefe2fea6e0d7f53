/**
 * `node dist/bench/adversarial.js`: gateway CPU spent refusing the worst documents we know of, each
 * within the default token limit (2000), through the front door's admission checks with the
 * default limits. Prints, per shape, its tokens, the verdict and the CPU time per request (median
 * and max over the runs). Figures go to BENCHMARKS.md; no assertions (tests check the visits).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { GraphQLError } from 'graphql';
import { loadConfig } from '../lib/config';
import { projectRoot } from '../lib/data-dir';
import { createAdmission } from '../gateway/front-door/admission';
import { limitsFromConfig } from '../gateway/limits/limits-config';
import { loadSupergraph } from '../gateway/supergraph';

const limits = limitsFromConfig(loadConfig({}));
const supergraph = loadSupergraph(fs.readFileSync(path.join(projectRoot(), 'schema/supergraph.graphql'), 'utf8'));

const chain = (levels: number, leaf: string) =>
  `query{viewer{...F0}} ${Array.from({ length: levels }, (_, i) => `fragment F${i} on User{...F${i + 1} ...F${i + 1}}`).join(' ')} fragment F${levels} on User{${leaf}}`;
const fan = (n: number) =>
  `query{viewer{...W0}} ${Array.from({ length: n }, (_, i) => `fragment W${i} on User{name ${Array.from({ length: n - i - 1 }, (_, j) => `...W${i + j + 1}`).join(' ')}}`).join(' ')}`;

const SHAPES: Record<string, string> = {
  'fragment chain, doubling (90 levels)': chain(90, 'id'),
  'fragment chain of aliases (90 levels)': chain(90, 'a:id'),
  'fragment chain of directives (90 levels)': chain(90, 'id@include(if:true)'),
  'fragment fan-out (each spreads all later, 28)': fan(28),
  'nested pages through a variable default':
    'query Q($n:Int=100){listings(first:$n){nodes{seller{listings(first:$n){nodes{id title}}}}}}',
  'repeated heavy field without aliases (60x)': `{${'listings(first:100){nodes{id}} '.repeat(60)}}`,
  'deep nesting (45 nested pages)': `{viewer{${'listings(first:1){nodes{seller{'.repeat(45)}id${'}}}'.repeat(45)}}}`,
  'legitimate 50-listing page':
    '{listings(first:50){edges{node{id title price{amount currency} status seller{id name}}} pageInfo{hasNextPage endCursor}}}',
};

const admission = createAdmission({
  schema: supergraph.apiSchema,
  limits: limits.operation,
  maxTokens: limits.maxTokens,
  introspection: false,
  cacheSize: 1,
});
const RUNS = 200;
const rows: Array<Record<string, string | number>> = [];
for (const [name, text] of Object.entries(SHAPES)) {
  const times: number[] = [];
  let verdict = 'admitted';
  for (let i = 0; i < RUNS; i++) {
    // a fresh text each run (a trailing comment), so the parsed-document cache never helps
    const query = `${text} #${i}`;
    const start = process.cpuUsage();
    try {
      admission.admit([{ query }], 'POST');
    } catch (err) {
      verdict = String((err as GraphQLError).extensions?.code ?? (err as Error).message);
    }
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  rows.push({
    shape: name,
    bytes: text.length,
    verdict,
    'median ms': times[RUNS >> 1]!.toFixed(3),
    'max ms': times[RUNS - 1]!.toFixed(3),
  });
}
console.table(rows);
