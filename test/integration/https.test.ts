import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, tlsFromConfig } from '../../lib/config';
import { limitsFromConfig } from '../../gateway/limits/limits-config';
import { startBareGateway } from '../helpers/bare-gateway';

let dir: string;
let cert: Buffer;
let url: string;
let bare: Awaited<ReturnType<typeof startBareGateway>>;

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1, made for this run.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const config = loadConfig({
    NODE_ENV: 'test',
    TLS_CERT_FILE: path.join(dir, 'cert.pem'),
    TLS_KEY_FILE: path.join(dir, 'key.pem'),
  });
  cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  bare = await startBareGateway({ limits: limitsFromConfig(config), tls: tlsFromConfig(config) });
  url = bare.url;
});
afterAll(async () => {
  await bare?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function request(
  target: string,
  body: string,
  ca?: Buffer,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      target,
      { method: 'POST', ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the gateway over HTTPS', () => {
  it('serves GraphQL over TLS with HSTS on every response', async () => {
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
    const res = await request(url, JSON.stringify({ query: '{ __typename }' }), cert);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { __typename: 'Query' } });
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const health = await request(new URL('/nope', url).toString(), '', cert);
    expect(health.status).toBe(404);
    expect(health.headers['strict-transport-security']).toBeDefined();
  });

  it('is refused by a client that does not trust the certificate, and does not speak plain HTTP', async () => {
    await expect(request(url, '{}')).rejects.toThrow(/self[- ]signed/i);
    await expect(fetch(url.replace('https:', 'http:'), { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('needs both the certificate and the key', () => {
    expect(() => loadConfig({ TLS_CERT_FILE: '/x/cert.pem' })).toThrow(
      /TLS_KEY_FILE: set both TLS_CERT_FILE and TLS_KEY_FILE, or neither/,
    );
    expect(tlsFromConfig(loadConfig({}))).toBeUndefined();
  });
});
