import { escapeHtml, NO_SCRIPT_CSP, sendHtml, simplePage } from '../lib/html';
import { isUuid } from '../lib/ids';
import type { RouteHandler } from '../lib/http';

/**
 * Where PayPal sends the payer back (`<EMAIL_PUBLIC_URL>/paypal/return|cancel?payment=…&listing=…`,
 * with PayPal's `token=<order id>`). In production SayPro's frontend serves these pages and calls
 * capturePayPalCheckout; in development (embedded mode, where EMAIL_PUBLIC_URL is the gateway) these
 * stand in for it, so the approval page of the emulator lands somewhere true: they say what happened
 * and open the capture (or the cancel) in GraphiQL. They capture and cancel nothing themselves (they hold no sign-in), and the
 * CHECKOUT.ORDER.APPROVED webhook captures an approved order in any case.
 */
export const PAYPAL_RETURN_PATH = '/paypal/return';
export const PAYPAL_CANCEL_PATH = '/paypal/cancel';

/** The ids of a return URL, each kept only when it has the shape ours and PayPal's have. */
function idsOf(url: URL) {
  const uuid = (name: string) => {
    const value = url.searchParams.get(name);
    return value && isUuid(value) ? value : null;
  };
  const token = url.searchParams.get('token');
  return {
    paymentId: uuid('payment'),
    listingId: uuid('listing'),
    orderId: token && /^[A-Za-z0-9-]{1,64}$/.test(token) ? token : null,
  };
}

const CAPTURE = (paymentId: string) => `mutation CapturePayPal {
  capturePayPalCheckout(input: { paymentId: "${paymentId}" }) {
    id status provider amount { amount currency } listing { id status }
  }
}`;
const CANCEL = (paymentId: string) => `mutation CancelPayPal {
  cancelPayPalCheckout(input: { paymentId: "${paymentId}" }) {
    id status declineCode listing { id status }
  }
}`;

/** A GraphiQL link with the operation filled in and the sign-in header to complete. */
function graphiqlLink(graphiqlPath: string, query: string, label: string): string {
  const params = new URLSearchParams({ query, headers: '{"Authorization": "Bearer <the seller\'s token>"}' });
  return `<a href="${escapeHtml(`${graphiqlPath}?${params}`)}">${escapeHtml(label)}</a>`;
}

const code = (value: string) => `<code>${escapeHtml(value)}</code>`;

function send(res: Parameters<RouteHandler>[1], title: string, body: string): void {
  sendHtml(res, 200, simplePage(title, body), {
    'content-security-policy': NO_SCRIPT_CSP,
    'referrer-policy': 'no-referrer',
  });
}

/** `/paypal/return` and `/paypal/cancel`, GET only; `graphiqlPath` is where the explorer is served. */
export function paypalPageRoutes(graphiqlPath = '/graphiql'): Record<string, RouteHandler> {
  const onlyGet: (handler: RouteHandler) => RouteHandler = (handler) => (req, res, url) => {
    if (req.method === 'GET' || req.method === 'HEAD') return handler(req, res, url);
    res.writeHead(405, { allow: 'GET, HEAD' });
    res.end();
  };
  return {
    [PAYPAL_RETURN_PATH]: onlyGet((_req, res, url) => {
      const { paymentId, listingId, orderId } = idsOf(url);
      const what = paymentId
        ? `<p>PayPal approved the payment ${code(paymentId)}${listingId ? ` for listing ${code(listingId)}` : ''}${orderId ? ` (order ${code(orderId)})` : ''}.</p>`
        : '<p>PayPal sent you back without a payment id this page knows.</p>';
      const next = paymentId
        ? `<p>SayPro's frontend now captures it with <code>capturePayPalCheckout</code>, and the listing goes live with the answer: ${graphiqlLink(graphiqlPath, CAPTURE(paymentId), 'capture it in GraphiQL')}. If nobody does, PayPal's CHECKOUT.ORDER.APPROVED webhook captures it within seconds.</p>`
        : '';
      send(
        res,
        'PayPal approved the payment',
        `${what}${next}<p style="color:#52606d;font-size:14px">This page stands in for the frontend's return page in development; in production SayPro's site serves ${code(PAYPAL_RETURN_PATH)}.</p>`,
      );
    }),
    [PAYPAL_CANCEL_PATH]: onlyGet((_req, res, url) => {
      const { paymentId, listingId } = idsOf(url);
      send(
        res,
        'PayPal payment cancelled',
        `<p>You left PayPal without approving${paymentId ? ` the payment ${code(paymentId)}` : ''}; nothing was charged.${listingId ? ` Listing ${code(listingId)} still waits for its posting fee.` : ''}</p>${paymentId ? `<p>SayPro's frontend now calls <code>cancelPayPalCheckout</code>, which frees the listing at once for a card payment or a new checkout: ${graphiqlLink(graphiqlPath, CANCEL(paymentId), 'cancel it in GraphiQL')}. Left alone, the order holds the listing until it expires unapproved (3 hours at PayPal).</p>` : ''}<p>To go back to PayPal instead, call <code>startPayPalCheckout</code> with the same idempotencyKey: it answers the same order and its approval page.</p><p style="color:#52606d;font-size:14px">This page stands in for the frontend's cancel page in development; in production SayPro's site serves ${code(PAYPAL_CANCEL_PATH)}.</p>`,
      );
    }),
  };
}
