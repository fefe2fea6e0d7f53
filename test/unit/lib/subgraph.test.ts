import http from 'node:http';
import { closeServer, listen, sendJson, type RouteHandler } from '../../../lib/http';
import { limitInternalRoutes } from '../../../lib/subgraph';

describe('limitInternalRoutes', () => {
  let now = 0;
  let server: http.Server;
  let base: string;
  const ok: RouteHandler = (_req, res) => sendJson(res, 200, { ok: true });
  beforeAll(async () => {
    const routes = limitInternalRoutes({ '/internal/a': ok, '/internal/b': ok, '/health/live': ok }, 3, () => now);
    server = http.createServer(
      (req, res) => void routes[new URL(req.url!, 'http://x').pathname]!(req, res, new URL(req.url!, 'http://x')),
    );
    base = `http://127.0.0.1:${(await listen(server, 0, '127.0.0.1')).port}`;
  });
  afterAll(() => closeServer(server, 10));
  const status = async (path: string) => {
    const res = await fetch(base + path);
    return [res.status, res.headers.get('retry-after')] as const;
  };

  it('shares one window between every /internal/* route, answers 429 with Retry-After past it, and leaves other routes alone', async () => {
    now = 1_000;
    expect([await status('/internal/a'), await status('/internal/b'), await status('/internal/a')]).toEqual([
      [200, null],
      [200, null],
      [200, null],
    ]);
    now = 31_000;
    expect(await status('/internal/b')).toEqual([429, '30']);
    expect(await status('/health/live')).toEqual([200, null]);
    now = 61_000;
    expect(await status('/internal/a')).toEqual([200, null]);
  });

  it('is off at 0', () => {
    const routes = { '/internal/a': ok };
    expect(limitInternalRoutes(routes, 0)).toBe(routes);
  });
});
