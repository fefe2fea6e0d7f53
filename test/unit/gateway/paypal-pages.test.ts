import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PAYPAL_CANCEL_PATH, PAYPAL_RETURN_PATH, paypalPageRoutes } from '../../../gateway/paypal-pages';

/** The two pages on a bare HTTP server, as the gateway mounts them. */
const routes = paypalPageRoutes('/graphiql');
const server = http.createServer((req, res) => {
  const url = new URL(req.url!, 'http://localhost');
  const route = routes[url.pathname];
  if (!route) return void res.writeHead(404).end();
  void route(req, res, url);
});
let base: string;
beforeAll(
  () =>
    new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', () => {
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        resolve();
      }),
    ),
);
afterAll(() => new Promise((resolve) => server.close(resolve)));

const PAYMENT = '6f1c2a9e-4b7d-4f0e-9a51-2d3c4b5a6e7f';
const LISTING = '0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b';

describe('PayPal return and cancel pages (development stand-ins for the frontend)', () => {
  it('the return page names the payment and order, and opens the capture mutation in GraphiQL', async () => {
    const res = await fetch(
      `${base}${PAYPAL_RETURN_PATH}?payment=${PAYMENT}&listing=${LISTING}&token=5O190127TN364715T&PayerID=QYR5Z8XDVJNXQ`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('<h1 style="font-size:22px">PayPal approved the payment</h1>');
    expect(html).toContain(`<code>${PAYMENT}</code>`);
    expect(html).toContain('<code>5O190127TN364715T</code>');
    const href = /href="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
    const link = new URL(href, base);
    expect(link.pathname).toBe('/graphiql');
    expect(link.searchParams.get('query')).toContain(`capturePayPalCheckout(input: { paymentId: "${PAYMENT}" })`);
    expect(JSON.parse(link.searchParams.get('headers')!)).toHaveProperty('Authorization');
  });

  it('shows nothing it was handed that is not an id of ours or PayPal’s (no markup gets through)', async () => {
    const evil = encodeURIComponent('"><script>alert(1)</script>');
    const html = await (
      await fetch(`${base}${PAYPAL_RETURN_PATH}?payment=${evil}&listing=${evil}&token=${evil}`)
    ).text();
    expect(html).not.toContain('<script');
    expect(html).not.toContain('alert(1)');
    expect(html).toContain('without a payment id this page knows');
    expect(html).not.toContain('/graphiql');
  });

  it('the cancel page says nothing was charged and how to try again', async () => {
    const html = await (
      await fetch(`${base}${PAYPAL_CANCEL_PATH}?payment=${PAYMENT}&listing=${LISTING}&token=ABC`)
    ).text();
    expect(html).toContain('PayPal payment cancelled');
    expect(html).toContain('nothing was charged');
    expect(html).toContain(`Listing <code>${LISTING}</code> still waits for its posting fee`);
    const link = new URL(/href="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&'), base);
    expect(link.searchParams.get('query')).toContain(`cancelPayPalCheckout(input: { paymentId: "${PAYMENT}" })`);
  });

  it('answers GET only', async () => {
    const res = await fetch(`${base}${PAYPAL_RETURN_PATH}?payment=${PAYMENT}`, { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});
