import { reviewById, reviewsByAuthor, reviewsByUpc, userById, type Review } from './data';
import { federationLink, type BenchSubgraph } from './subgraph';

/** Reviews of users and products; a review's author comes with its username (@provides). */
export const reviews: BenchSubgraph = {
  name: 'reviews',
  typeDefs: `${federationLink('@key', '@external', '@provides')}
    type Review @key(fields: "id") {
      id: ID!
      body: String!
      rating: Int!
      author: User! @provides(fields: "username")
      product: Product!
    }
    type User @key(fields: "id") {
      id: ID!
      username: String! @external
      reviews: [Review!]!
    }
    type Product @key(fields: "upc") {
      upc: String!
      reviews: [Review!]!
    }`,
  resolvers: {
    Review: {
      __resolveReference: ({ id }: { id: string }) => reviewById.get(id) ?? null,
      author: (review: Review) => ({ id: review.authorId, username: userById.get(review.authorId)?.username }),
      product: (review: Review) => ({ upc: review.upc }),
    },
    User: {
      reviews: ({ id }: { id: string }) => reviewsByAuthor.get(id) ?? [],
    },
    Product: {
      reviews: ({ upc }: { upc: string }) => reviewsByUpc.get(upc) ?? [],
    },
  },
};
