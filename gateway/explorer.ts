import fs from 'node:fs';
import path from 'node:path';
import type { RouteHandler } from '../lib/http';

/**
 * An offline GraphQL IDE at `/graphiql`: GraphiQL 3 with its headers editor and schema docs,
 * served from the installed packages (its UMD build and React 18's), so it works with no internet,
 * unlike Apollo Sandbox, which loads from Apollo's CDN. Development only, as introspection is.
 */
const ASSETS: Record<string, { module: string; file: string; type: string }> = {
  '/graphiql/react.js': { module: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  '/graphiql/react-dom.js': { module: 'react-dom', file: 'umd/react-dom.production.min.js', type: 'text/javascript' },
  '/graphiql/graphiql.js': { module: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  '/graphiql/graphiql.css': { module: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

/** Mounts GraphiQL on `graphqlPath`; `?query=` and `?headers=` (JSON) fill its editors. No inline script: the page's CSP forbids it. */
const START = `(function () {
  var params = new URLSearchParams(location.search);
  var fetcher = GraphiQL.createFetcher({ url: __GRAPHQL_PATH__ });
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: params.get('query') || '# SayPro Graph. Run with the play button (Ctrl-Enter); the docs are in the book icon.\\n# Signed in: put {"Authorization": "Bearer <token>"} in Headers below (npm run token -- --user <id>).\\n{\\n  listings(first: 5) {\\n    nodes { id title status price { amount currency } }\\n  }\\n}\\n',
    defaultHeaders: params.get('headers') || '{}',
    defaultEditorToolsVisibility: 'headers',
    shouldPersistHeaders: false,
  }));
})();
`;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>SayPro Graph · GraphiQL</title>
<link rel="stylesheet" href="/graphiql/graphiql.css">
<style>html,body,#graphiql{height:100%;margin:0}</style>
</head><body><div id="graphiql">Loading GraphiQL…</div>
<script src="/graphiql/react.js"></script><script src="/graphiql/react-dom.js"></script><script src="/graphiql/graphiql.js"></script><script src="/graphiql/start.js"></script>
</body></html>`;

/** Scripts and styles from this origin only; GraphiQL's editor styles itself inline. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function explorerRoutes(graphqlPath: string): Record<string, RouteHandler> {
  const cache = new Map<string, Buffer>();
  const read = (route: string): Buffer => {
    let body = cache.get(route);
    if (!body) {
      const asset = ASSETS[route]!;
      body = fs.readFileSync(path.join(path.dirname(require.resolve(`${asset.module}/package.json`)), asset.file));
      cache.set(route, body);
    }
    return body;
  };
  const send = (type: string, body: Buffer | string, cacheControl: string): RouteHandler => (req, res) => {
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(body), 'cache-control': cacheControl, 'x-content-type-options': 'nosniff', 'content-security-policy': CSP });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const start = START.replace('__GRAPHQL_PATH__', JSON.stringify(graphqlPath));
  return {
    '/graphiql': send('text/html', PAGE, 'no-store'),
    '/graphiql/start.js': send('text/javascript', start, 'no-store'),
    ...Object.fromEntries(Object.entries(ASSETS).map(([route, asset]) => [route, (req, res, url) => send(asset.type, read(route), 'public, max-age=86400')(req, res, url)])),
  };
}
