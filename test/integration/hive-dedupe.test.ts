import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { VIEWER_HEADER, mintToken, verifyViewerHeader } from '../../lib/auth';
import { startBareGateway } from '../helpers/bare-gateway';

/**
 * The hive engine's upstream deduplication (GATEWAY_DEDUPE) over a subgraph of its own that
 * answers slowly and says whose viewer header it got: identical queries in flight at once share a
 * fetch only when they are the same viewer's, never across viewers.
 */
const INTERNAL = 'i'.repeat(40);
const JWT = 's'.repeat(40);
let subgraph: http.Server;
let subgraphUrl: string;
const fetches: string[] = [];

beforeAll(async () => {
  subgraph = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const viewer = verifyViewerHeader(
        req.headers[VIEWER_HEADER] as string | undefined,
        { audience: 'who', path: req.url ?? '', body },
        INTERNAL,
      );
      fetches.push(viewer.userId ?? 'anonymous');
      const query = (JSON.parse(body) as { query: string }).query;
      const data = query.includes('_service')
        ? { _service: { sdl: 'type Query { whoami: String }' } }
        : { whoami: viewer.userId ?? 'anonymous' };
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data })), 150);
    });
  });
  await new Promise<void>((resolve) => subgraph.listen(0, '127.0.0.1', resolve));
  subgraphUrl = `http://127.0.0.1:${(subgraph.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((resolve) => subgraph.close(() => resolve())));

function supergraph() {
  const composed = composeServices([
    {
      name: 'who',
      url: subgraphUrl,
      typeDefs: parse(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: []) type Query { whoami: String }',
      ),
    },
  ]);
  if (!composed.supergraphSdl) throw new Error(JSON.stringify(composed.errors));
  return composed.supergraphSdl;
}

/** The viewer header's expiry counts whole seconds: start a burst just after a second begins, so all of it signs alike. */
async function atSecondStart() {
  await new Promise((resolve) => setTimeout(resolve, 1005 - (Date.now() % 1000)));
}

async function ask(url: string, userId: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${await mintToken({ secret: JWT, userId })}`,
    },
    body: JSON.stringify({ query: '{ whoami }' }),
  });
  return ((await res.json()) as { data: { whoami: string } }).data.whoami;
}

describe('the hive engine’s upstream deduplication', () => {
  it.each([
    [true, 1],
    [false, 3],
  ])(
    'with GATEWAY_DEDUPE=%s, one viewer’s three identical queries at once cost %i fetch(es); two viewers never share',
    async (dedupe, sameViewerFetches) => {
      const gateway = await startBareGateway({
        engine: 'hive',
        dedupe,
        supergraphSdl: supergraph(),
        subgraphUrls: { who: subgraphUrl },
        jwt: { secret: JWT },
        internalSecret: INTERNAL,
      });
      try {
        fetches.length = 0;
        await atSecondStart();
        expect(await Promise.all([ask(gateway.url, 'ada'), ask(gateway.url, 'ada'), ask(gateway.url, 'ada')])).toEqual([
          'ada',
          'ada',
          'ada',
        ]);
        expect(fetches).toEqual(Array(sameViewerFetches).fill('ada'));
        fetches.length = 0;
        await atSecondStart();
        expect(await Promise.all([ask(gateway.url, 'ada'), ask(gateway.url, 'bob')])).toEqual(['ada', 'bob']);
        expect(fetches.sort()).toEqual(['ada', 'bob']);
      } finally {
        await gateway.stop();
      }
    },
  );
});
