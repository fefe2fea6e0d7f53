/**
 * What the gateways are loaded with. Each workload is one operation POSTed as it is; the runner
 * checks that every target answers it with the same JSON before measuring.
 *
 * Hook for the main benchmark: a workload over another supergraph (our own 50-listing page with
 * sellers, payment status and CRM contact) needs that supergraph's subgraphs, so it is added by
 * passing its own `Workload` list and subgraph set to the runner rather than here.
 */
export interface Workload {
  name: string;
  /** One line for the report. */
  description: string;
  query: string;
  variables?: Record<string, unknown>;
  /** Smallest acceptable answer, bytes: a check that the workload is the one intended. */
  minBytes?: number;
}

const FRAGMENTS = `
fragment UserFields on User { id username name birthday }
fragment ReviewFields on Review { id body rating }
fragment ProductFields on Product { upc name price weight inStock shippingEstimate }`;

/** Every subgraph, entities three levels deep, @requires (shippingEstimate), @provides (author username), lists of lists. */
export const HEAVY: Workload = {
  name: 'heavy',
  description: 'deep query over all four subgraphs, about 90 KB',
  minBytes: 50_000,
  query: `query Heavy {
  users {
    ...UserFields
    shelves { ...ProductFields }
    reviews {
      ...ReviewFields
      product {
        ...ProductFields
        reviews { ...ReviewFields author { ...UserFields reviews { ...ReviewFields product { ...ProductFields } } } }
      }
    }
  }
  topProducts(first: 5) {
    ...ProductFields
    stockGrid
    reviews { ...ReviewFields author { ...UserFields reviews { ...ReviewFields product { ...ProductFields } } } }
  }
}${FRAGMENTS}`,
};

/** Two subgraphs and one @requires: the gateway's fixed cost per request shows here. */
export const LIGHT: Workload = {
  name: 'light',
  description: 'top 3 products with shipping estimate (products → inventory)',
  query: 'query Light { topProducts(first: 3) { upc name price shippingEstimate } }',
};

export const WORKLOADS: readonly Workload[] = [HEAVY, LIGHT];
