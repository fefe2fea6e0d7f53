import { federationLink, type BenchSubgraph } from './subgraph';

const WAREHOUSES = 3;
const WEEKS = 4;
const digitsOf = (upc: string) => Number(upc.replace(/\D/g, ''));

/** Stock and shipping: shippingEstimate @requires price and weight from products. */
export const inventory: BenchSubgraph = {
  name: 'inventory',
  typeDefs: `${federationLink('@key', '@external', '@requires')}
    type Product @key(fields: "upc") {
      upc: String!
      weight: Int! @external
      price: Int! @external
      inStock: Boolean!
      shippingEstimate: Int! @requires(fields: "price weight")
      "Units per warehouse per week: a list of lists of scalars."
      stockGrid: [[Int!]!]!
    }`,
  resolvers: {
    Product: {
      // The representation carries upc, plus price and weight when shippingEstimate is asked.
      __resolveReference: (ref: { upc: string; price?: number; weight?: number }) => ref,
      inStock: ({ upc }: { upc: string }) => digitsOf(upc) % 4 !== 0,
      shippingEstimate: ({ price, weight }: { price: number; weight: number }) =>
        price > 8000 ? 0 : Math.round(weight / 2),
      stockGrid: ({ upc }: { upc: string }) =>
        Array.from({ length: WAREHOUSES }, (_, w) =>
          Array.from({ length: WEEKS }, (_, week) => (digitsOf(upc) * 13 + w * 7 + week * 3) % 50),
        ),
    },
  },
};
