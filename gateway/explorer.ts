import fs from 'node:fs';
import path from 'node:path';
import type { RouteHandler } from '../lib/http';

/**
 * An offline GraphQL IDE at `/graphiql`: GraphiQL 3 with its headers editor and schema docs,
 * served from the installed packages (its UMD build and React 18's), so it works with no internet,
 * unlike Apollo Sandbox, which loads from Apollo's CDN. Development only, as introspection is.
 */
const ASSETS: Record<string, Asset> = {
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

/** The REST facade's docs at `/rest-docs`: Swagger UI (its dist build) over /openapi.json, with "Try it out" and an Authorize button for a token or key. */
const REST_ASSETS: Record<string, Asset> = {
  '/rest-docs/swagger-ui.js': { module: 'swagger-ui-dist', file: 'swagger-ui-bundle.js', type: 'text/javascript' },
  '/rest-docs/swagger-ui.css': { module: 'swagger-ui-dist', file: 'swagger-ui.css', type: 'text/css' },
};

/** No validator badge (it would call validator.swagger.io). */
const REST_START = `(function () {
  window.ui = SwaggerUIBundle({
    url: __OPENAPI_PATH__,
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
})();
`;

const REST_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>SayPro Graph · REST API</title>
<link rel="stylesheet" href="/rest-docs/swagger-ui.css">
</head><body>
<p style="font-family:sans-serif;margin:1em 2em">The REST facade, from <a href="/openapi.json">/openapi.json</a>. The GraphQL API: <a href="/graphiql">GraphiQL</a> (offline) or <a href="/graphql">Apollo Sandbox</a>.</p>
<div id="swagger-ui">Loading the REST docs…</div>
<script src="/rest-docs/swagger-ui.js"></script><script src="/rest-docs/start.js"></script>
</body></html>`;

/** Scripts and styles from this origin only; GraphiQL's editor and Swagger UI style themselves inline. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

type Asset = { module: string; file: string; type: string };

/** A page, its start script, and its assets read once from the installed packages. */
function pageRoutes(
  route: string,
  page: string,
  start: string,
  assets: Record<string, Asset>,
): Record<string, RouteHandler> {
  const cache = new Map<string, Buffer>();
  const read = (assetRoute: string): Buffer => {
    let body = cache.get(assetRoute);
    if (!body) {
      const asset = assets[assetRoute]!;
      body = fs.readFileSync(path.join(path.dirname(require.resolve(`${asset.module}/package.json`)), asset.file));
      cache.set(assetRoute, body);
    }
    return body;
  };
  return {
    [route]: send('text/html', page, 'no-store'),
    [`${route}/start.js`]: send('text/javascript', start, 'no-store'),
    ...Object.fromEntries(
      Object.entries(assets).map(([assetRoute, asset]) => [
        assetRoute,
        (req, res, url) => send(asset.type, read(assetRoute), 'public, max-age=86400')(req, res, url),
      ]),
    ),
  };
}

function send(type: string, body: Buffer | string, cacheControl: string): RouteHandler {
  return (req, res) => {
    res.writeHead(200, {
      'content-type': `${type}; charset=utf-8`,
      'content-length': Buffer.byteLength(body),
      'cache-control': cacheControl,
      'x-content-type-options': 'nosniff',
      'content-security-policy': CSP,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** GraphiQL on `graphqlPath` at /graphiql, and the REST docs over `openApiPath` at /rest-docs. */
export function explorerRoutes(graphqlPath: string, openApiPath = '/openapi.json'): Record<string, RouteHandler> {
  return {
    ...pageRoutes('/graphiql', PAGE, START.replace('__GRAPHQL_PATH__', JSON.stringify(graphqlPath)), ASSETS),
    ...pageRoutes(
      '/rest-docs',
      REST_PAGE,
      REST_START.replace('__OPENAPI_PATH__', JSON.stringify(openApiPath)),
      REST_ASSETS,
    ),
  };
}
