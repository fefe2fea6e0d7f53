import { accounts } from './accounts';
import { inventory } from './inventory';
import { productsSubgraph } from './products';
import { reviews } from './reviews';
import type { BenchSubgraph } from './subgraph';

/** The four subgraphs of the benchmark's supergraph, in a fixed order. */
export const BENCH_SUBGRAPHS: readonly BenchSubgraph[] = [accounts, inventory, productsSubgraph, reviews];
