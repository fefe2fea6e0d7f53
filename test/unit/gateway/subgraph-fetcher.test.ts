import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSubgraphFetcher } from '../../../gateway/engines/subgraph-fetcher';

let server: http.Server;
let base: string;
let connections = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.url === '/empty') return void res.writeHead(204).end();
      if (req.url === '/down') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('down');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-seen-viewer': String(req.headers['x-saypro-viewer']),
      });
      res.end(JSON.stringify({ data: { echo: body, method: req.method } }));
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the subgraph fetcher', () => {
  it('answers with what both engines read of a Response: status, headers by any case, text and json', async () => {
    const { fetcher, close } = createSubgraphFetcher();
    try {
      const answer = await fetcher(`${base}/graphql`, {
        method: 'POST',
        headers: { 'x-saypro-viewer': 'signed', 'content-type': 'application/json' },
        body: '{"query":"{ a }"}',
      });
      expect({ ok: answer.ok, status: answer.status, statusText: answer.statusText, url: answer.url }).toEqual({
        ok: true,
        status: 200,
        statusText: 'OK',
        url: `${base}/graphql`,
      });
      expect(answer.headers.get('Content-Type')).toBe('application/json');
      expect(answer.headers.get('x-seen-viewer')).toBe('signed');
      expect(answer.headers.get('set-cookie')).toBe('a=1, b=2');
      expect(answer.headers.get('nope')).toBeNull();
      expect(Object.fromEntries([...(answer.headers as unknown as Iterable<[string, string]>)])).toMatchObject({
        'content-type': 'application/json',
      });
      expect(await answer.json()).toEqual({ data: { echo: '{"query":"{ a }"}', method: 'POST' } });
      expect(JSON.parse(await answer.text())).toEqual({ data: { echo: '{"query":"{ a }"}', method: 'POST' } });
      const down = await fetcher(`${base}/down`, { method: 'GET' });
      expect({ ok: down.ok, status: down.status, statusText: down.statusText, text: await down.text() }).toEqual({
        ok: false,
        status: 503,
        statusText: 'Service Unavailable',
        text: 'down',
      });
      const empty = await fetcher(`${base}/empty`, { method: 'GET' });
      expect({ status: empty.status, text: await empty.text() }).toEqual({ status: 204, text: '' });
    } finally {
      await close();
    }
  });

  it('keeps connections alive between requests, and opens no more than the pool allows', async () => {
    const { fetcher, close } = createSubgraphFetcher({ connectionsPerSubgraph: 2 });
    try {
      const before = connections;
      // undici may open a second socket while the first is being released; never one per request
      for (let i = 0; i < 20; i++) await (await fetcher(`${base}/graphql`, { method: 'POST', body: '{}' })).text();
      expect(connections - before).toBeLessThanOrEqual(2);
      await Promise.all(
        Array.from({ length: 10 }, async () =>
          (await fetcher(`${base}/graphql`, { method: 'POST', body: '{}' })).text(),
        ),
      );
      expect(connections - before).toBeLessThanOrEqual(2);
    } finally {
      await close();
    }
  });
});
