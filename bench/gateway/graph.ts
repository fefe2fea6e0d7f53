import type { Role } from '../../lib/auth';
import type { Child } from './children';
import type { SubgraphProbe } from './measure';
import { startSubgraphs } from './subgraph-processes';
import { writeSupergraph } from './supergraph';
import { WORKLOADS, type Workload } from './workloads';

/** A supergraph to put the gateways in front of: its running subgraphs and what to ask them. */
export interface BenchGraph {
  name: string;
  workloads: readonly Workload[];
  /** Roles of the viewer our gateway's targets sign in as. @default ['user'] */
  viewerRoles?: Role[];
  /** Why stock @apollo/gateway cannot serve this graph, when it cannot. */
  stockUnavailable?: string;
  /** Starts the subgraphs and writes the supergraph (its @join__graph URLs on their ports) into `dir`. */
  start(parts: {
    root: string;
    dir: string;
    subgraphProcesses: 1 | 4;
    subgraphCache: boolean;
    timeoutMs: number;
  }): Promise<{ supergraphPath: string; children: Child[]; probe: SubgraphProbe }>;
}

/** The four local subgraphs (accounts, inventory, products, reviews); `--graph saypro` is ours (saypro-graph.ts). */
export const localFederationGraph: BenchGraph = {
  name: 'local federation (accounts, inventory, products, reviews)',
  workloads: WORKLOADS,
  async start({ root, dir, subgraphProcesses, subgraphCache, timeoutMs }) {
    const { ports, children, probe } = await startSubgraphs(
      root,
      { processes: subgraphProcesses, cache: subgraphCache },
      timeoutMs,
    );
    return { supergraphPath: writeSupergraph(ports, dir), children, probe };
  },
};
