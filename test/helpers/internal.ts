import { VIEWER_HEADER, signViewerHeader, type Viewer } from '../../lib/auth';

/** A viewer header signed, as the gateway would, for one POST of `body` to the subgraph at `url`. */
export function viewerHeaderFor(
  viewer: Viewer,
  url: string,
  body: string,
  secret: string,
  audience = 'listings',
  now = Date.now(),
): string {
  const target = new URL(url);
  return signViewerHeader(viewer, { audience, path: target.pathname + target.search, body }, secret, 60, now);
}

/** POSTs a GraphQL query straight to a subgraph with the given viewer header (or none). */
export async function callSubgraph(url: string, query: string, header?: string | ((body: string) => string)) {
  const body = JSON.stringify({ query });
  const value = typeof header === 'function' ? header(body) : header;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(value !== undefined ? { [VIEWER_HEADER]: value } : {}) },
    body,
  });
  return {
    status: res.status,
    body: (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions: { code: string } }> },
  };
}
