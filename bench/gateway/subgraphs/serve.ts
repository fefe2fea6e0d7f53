import http from 'node:http';
import type net from 'node:net';
import { execute, parse, validate, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';

/** What a subgraph server has done, read by the runner through `GET /__bench/stats`. */
export interface SubgraphStats {
  requests: number;
  /** Requests answered from the response cache. */
  cached: number;
}

/** Distinct request bodies whose answers are kept; a gateway sends a few dozen at most. */
const RESPONSE_CACHE_ENTRIES = 5000;

const send = (res: http.ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
const json = (res: http.ServerResponse, status: number, body: unknown) => send(res, status, JSON.stringify(body));

/**
 * GraphQL over plain node:http, as thin as it can be so that the subgraphs are not what is
 * measured: a gateway sends the same few query texts again and again, so each text is parsed and
 * validated once and its document kept. With `cacheResponses` the answer to a body already seen
 * is sent again as it was: the data never changes, so it is the answer execution would give.
 */
export function createSubgraphServer(
  schema: GraphQLSchema,
  cacheResponses: boolean,
): { server: http.Server; stats: SubgraphStats } {
  const stats: SubgraphStats = { requests: 0, cached: 0 };
  const responses = new Map<string, string>();
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
  const documentOf = (query: string) => {
    let doc = documents.get(query);
    if (!doc) {
      try {
        const parsed = parse(query);
        const errors = validate(schema, parsed);
        doc = errors.length ? errors : parsed;
      } catch (err) {
        doc = [err as GraphQLError];
      }
      documents.set(query, doc);
    }
    return doc;
  };

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health/live') return json(res, 200, { status: 'ok' });
    if (req.method === 'GET' && req.url === '/__bench/stats') return json(res, 200, stats);
    if (req.method !== 'POST') return json(res, 405, { errors: [{ message: 'POST only' }] });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      stats.requests++;
      const raw = Buffer.concat(chunks).toString('utf8');
      const cached = responses.get(raw);
      if (cached !== undefined) {
        stats.cached++;
        return send(res, 200, cached);
      }
      let body: { query?: string; variables?: Record<string, unknown>; operationName?: string };
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        return json(res, 400, { errors: [{ message: 'body is not JSON' }] });
      }
      const doc = documentOf(body.query ?? '');
      if (Array.isArray(doc)) return json(res, 400, { errors: doc.map((e: GraphQLError) => ({ message: e.message })) });
      void Promise.resolve(
        execute({
          schema,
          document: doc as DocumentNode,
          variableValues: body.variables,
          operationName: body.operationName,
        }),
      ).then(
        (result) => {
          const text = JSON.stringify(result);
          if (cacheResponses && !result.errors && responses.size < RESPONSE_CACHE_ENTRIES) responses.set(raw, text);
          send(res, 200, text);
        },
        (err: unknown) => json(res, 500, { errors: [{ message: String(err) }] }),
      );
    });
  });
  // Longer than any gateway's idle pool timeout, so connections are reused rather than reset.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return { server, stats };
}

/** Listens on a free loopback port and resolves with it. */
export function listenOnFreePort(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}
