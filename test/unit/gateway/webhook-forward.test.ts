import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createLogger } from '../../../lib/logger';
import { startTracing, traceRequests, type Tracing } from '../../../lib/tracing';
import { createWebhookForward } from '../../../gateway/webhook-forward';

const listen = (server: http.Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

describe('webhook forwarding', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  // The subgraph's receiving end: records what arrived, answers as a webhook route does.
  const subgraph = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      });
  });
  let gateway: http.Server;
  let gatewayUrl: string;
  beforeAll(async () => {
    tracing = startTracing({ service: 'gateway', exporter })!;
    const target = await listen(subgraph);
    const forward = createWebhookForward(() => `${target}/webhooks/stripe`, createLogger({ level: 'silent' }), {
      subgraph: 'payments',
      methods: ['POST'],
      maxBytes: 1024,
    });
    gateway = http.createServer(
      traceRequests('gateway', async (req, res) => forward(req, res, new URL(req.url!, 'http://localhost')), {
        continueTrace: false,
        known: () => true,
      }),
    );
    gatewayUrl = await listen(gateway);
  });
  afterAll(async () => {
    await new Promise((r) => gateway.close(r));
    await new Promise((r) => subgraph.close(r));
    await tracing.shutdown();
  });

  it("passes the raw body and the signature on, inside the gateway's trace", async () => {
    const body = '{"id":"evt_1","type":"payment_intent.succeeded"}';
    const res = await fetch(`${gatewayUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=abc', cookie: 'not=forwarded' },
      body,
    });
    expect({ status: res.status, answer: await res.json() }).toEqual({ status: 200, answer: { received: true } });
    const [arrived] = received;
    expect({
      body: arrived?.body,
      signature: arrived?.headers['stripe-signature'],
      cookie: arrived?.headers.cookie,
    }).toEqual({ body, signature: 't=1,v1=abc', cookie: undefined });
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.name === 'POST /webhooks/stripe')!;
    const forward = spans.find((s) => s.name === 'POST payments')!;
    expect({ parent: forward.parentSpanContext?.spanId, traceparent: arrived?.headers.traceparent }).toEqual({
      parent: server.spanContext().spanId,
      traceparent: `00-${forward.spanContext().traceId}-${forward.spanContext().spanId}-01`,
    });
  });
});
