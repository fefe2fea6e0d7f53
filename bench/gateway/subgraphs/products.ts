import { productByUpc, products } from './data';
import { federationLink, type BenchSubgraph } from './subgraph';

/** Owns Product's catalogue fields, including the price and weight that inventory @requires. */
export const productsSubgraph: BenchSubgraph = {
  name: 'products',
  typeDefs: `${federationLink('@key')}
    type Query {
      topProducts(first: Int = 5): [Product!]!
    }
    type Product @key(fields: "upc") {
      upc: String!
      name: String!
      price: Int!
      weight: Int!
    }`,
  resolvers: {
    Query: {
      topProducts: (_: unknown, { first }: { first: number }) => products.slice(0, Math.max(0, first)),
    },
    Product: {
      __resolveReference: ({ upc }: { upc: string }) => productByUpc.get(upc) ?? null,
    },
  },
};
