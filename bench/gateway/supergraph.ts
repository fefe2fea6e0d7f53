import fs from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { BENCH_SUBGRAPHS } from './subgraphs/all';

/**
 * Composes the benchmark subgraphs in-process, each `@join__graph(url:)` pointing at the port its
 * server listens on, and writes the supergraph SDL into `dir`. Returns the file's path.
 */
export function writeSupergraph(ports: Record<string, number>, dir: string): string {
  const result = composeServices(
    BENCH_SUBGRAPHS.map((s) => {
      const port = ports[s.name];
      if (!port) throw new Error(`no port for subgraph ${s.name}`);
      return { name: s.name, typeDefs: parse(s.typeDefs), url: `http://127.0.0.1:${port}/graphql` };
    }),
  );
  if (result.errors?.length || !result.supergraphSdl) {
    throw new Error(`composition failed:\n${(result.errors ?? []).map((e) => `  ${e.message}`).join('\n')}`);
  }
  const file = path.join(dir, 'supergraph.graphql');
  fs.writeFileSync(file, result.supergraphSdl);
  return file;
}
