import type http from 'node:http';
import { readBody, type RouteHandler } from '../../../lib/http';
import type { Logger } from '../../../lib/logger';
import type { EmailService } from '../domain/email.service';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)}</title></head>` +
  `<body style="font-family:Helvetica,Arial,sans-serif;max-width:480px;margin:60px auto;color:#1f2933"><h1 style="font-size:22px">${escape(title)}</h1>${body}</body></html>`;

function send(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

/**
 * /email/unsubscribe?token=…: GET shows a confirmation button (link scanners must not unsubscribe
 * anyone); POST unsubscribes, which is also RFC 8058's one-click `List-Unsubscribe-Post`.
 */
export function createUnsubscribeRoute(deps: { email: EmailService; logger: Logger }): RouteHandler {
  return async (req, res, url) => {
    const token = url.searchParams.get('token') ?? '';
    if (req.method === 'GET') {
      return send(
        res,
        200,
        page(
          'Unsubscribe from SayPro marketing mail',
          `<p>You will no longer receive promotions or new-listing alerts at this address. Receipts and account mail still arrive.</p>` +
            `<form method="post" action="?token=${encodeURIComponent(token)}"><button type="submit" style="padding:10px 18px">Unsubscribe</button></form>`,
        ),
      );
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' });
      return void res.end();
    }
    await readBody(req, 4096);
    const outcome = await deps.email.unsubscribe(token);
    if (outcome === 'invalid') return send(res, 400, page('This link is not valid', '<p>Use the link from a SayPro mail, or change your preferences in your account.</p>'));
    if (outcome === 'expired') return send(res, 410, page('This link has expired', '<p>Use the link in a recent SayPro mail, or change your preferences in your account.</p>'));
    if (outcome === 'already') return send(res, 200, page('This link was already used', '<p>It unsubscribed you once and does nothing more. Change your preferences in your account.</p>'));
    send(res, 200, page('You are unsubscribed', '<p>You will receive no more marketing mail from SayPro. You can opt in again in your account preferences.</p>'));
  };
}
