import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { startBareGateway } from '../helpers/bare-gateway';

// A gateway in front of a supergraph other than SayPro's (SUPERGRAPH_PATH, as the gateway benchmark runs it).
const foreign = composeServices([
  {
    name: 'products',
    url: 'http://127.0.0.1:9/graphql',
    typeDefs: parse(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
      type Query { topProducts: [Product!]! }
      type Product @key(fields: "upc") { upc: ID! name: String }`),
  },
]);

describe('a gateway in front of another supergraph', () => {
  it('starts without the REST facade, which needs SayPro’s operations, and answers GraphQL', async () => {
    expect(foreign.errors ?? []).toEqual([]);
    const gateway = await startBareGateway({ supergraphSdl: foreign.supergraphSdl! });
    try {
      const graphql = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
      });
      expect(await graphql.json()).toEqual({ data: { __typename: 'Query' } });
      const origin = new URL(gateway.url).origin;
      const openApi = await fetch(`${origin}/openapi.json`);
      const charge = await fetch(`${origin}/payments/charge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect({ openApi: openApi.status, charge: charge.status }).toEqual({ openApi: 404, charge: 404 });
    } finally {
      await gateway.stop();
    }
  });
});
