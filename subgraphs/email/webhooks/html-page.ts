import type http from 'node:http';
import { NO_SCRIPT_CSP, sendHtml, simplePage } from '../../../lib/html';
import { readBody, type RouteHandler } from '../../../lib/http';

/** The small pages mail links open (unsubscribe, confirm an address): no script, no referrer, never cached. */
export const page = simplePage;

export function send(res: http.ServerResponse, status: number, html: string): void {
  sendHtml(res, status, html, { 'content-security-policy': NO_SCRIPT_CSP, 'referrer-policy': 'no-referrer' });
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
