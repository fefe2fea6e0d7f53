import { userById, users, type User } from './data';
import { federationLink, type BenchSubgraph } from './subgraph';

/** Owns User; its shelves are a list of lists of Product references resolved by other subgraphs. */
export const accounts: BenchSubgraph = {
  name: 'accounts',
  typeDefs: `${federationLink('@key', '@shareable')}
    type Query {
      me: User
      user(id: ID!): User
      users: [User!]!
    }
    type User @key(fields: "id") {
      id: ID!
      name: String!
      "Shareable: reviews provides it on a review's author."
      username: String! @shareable
      birthday: Int!
      shelves: [[Product!]!]!
    }
    type Product @key(fields: "upc", resolvable: false) {
      upc: String!
    }`,
  resolvers: {
    Query: {
      me: () => users[0],
      user: (_: unknown, { id }: { id: string }) => userById.get(id) ?? null,
      users: () => users,
    },
    User: {
      __resolveReference: ({ id }: { id: string }) => userById.get(id) ?? null,
      shelves: (user: User) => user.shelves.map((shelf) => shelf.map((upc) => ({ upc }))),
    },
  },
};
