import type http from 'node:http';
import { readBody, type RouteHandler } from '../../../lib/http';

/** The small pages mail links open (unsubscribe, confirm an address): no script, no referrer, never cached. */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head>` +
  `<body style="font-family:Helvetica,Arial,sans-serif;max-width:480px;margin:60px auto;color:#1f2933"><h1 style="font-size:22px">${escapeHtml(title)}</h1>${body}</body></html>`;

export function send(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

/** What a mail link's POST did: the page to answer with. */
export interface LinkOutcome {
  status: number;
  title: string;
  /** HTML of the page body (escape what is not ours). */
  body: string;
}

/**
 * A link in a mail that acts (`?token=…`): GET shows a page with one button, so a link scanner
 * opening it does nothing; the POST (the button, or a mail client's one-click) runs `act`.
 */
export function createMailLinkRoute(options: {
  title: string;
  intro: string;
  button: string;
  act: (token: string) => Promise<LinkOutcome>;
}): RouteHandler {
  return async (req, res, url) => {
    const token = url.searchParams.get('token') ?? '';
    if (req.method === 'GET') {
      const form = `<form method="post" action="?token=${encodeURIComponent(token)}"><button type="submit" style="padding:10px 18px">${options.button}</button></form>`;
      return send(res, 200, page(options.title, `<p>${options.intro}</p>${form}`));
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' });
      return void res.end();
    }
    await readBody(req, 4096);
    const outcome = await options.act(token);
    send(res, outcome.status, page(outcome.title, outcome.body));
  };
}
