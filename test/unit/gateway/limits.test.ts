import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { projectRoot } from '../../../lib/data-dir';
import { canonicalOperation, persistedOperationsOf, sha256Hex } from '../../../lib/persisted-operations';
import { measureOperation } from '../../../gateway/limits/operation-shape';
import { clientAddress, createRateLimiter } from '../../../gateway/limits/rate-limiter';
import type http from 'node:http';

const schema = buildSchema(fs.readFileSync(path.join(projectRoot(), 'schema/api.graphql'), 'utf8'));
const measure = (query: string, variables: Record<string, unknown> = {}) => {
  const document = parse(query);
  return measureOperation(schema, document, getOperationAST(document)!, variables, { defaultListSize: 20 });
};

describe('operation shape', () => {
  it('multiplies by page sizes from literals and variables, and bounds a connection’s nodes by its page', () => {
    expect(measure('{ listings(first: 50) { nodes { id title } } }')).toEqual({ depth: 3, cost: 1 + 50 * (1 + 2), aliases: 0 });
    expect(measure('query($n: Int) { listings(first: $n) { nodes { id } } }', { n: 7 }).cost).toBe(1 + 7 * 2);
    // no first: the default page size
    expect(measure('{ listings { edges { node { id } } } }').cost).toBe(1 + 20 * (1 + 1 * (1 + 1)));
  });

  it('multiplies nested pages, so a page of sellers with their pages costs their product', () => {
    const flat = measure('{ listings(first: 10) { nodes { seller { id } } } }').cost;
    const nested = measure('{ listings(first: 10) { nodes { seller { listings(first: 10) { nodes { id } } } } } }').cost;
    expect(flat).toBe(1 + 10 * (1 + 1 + 1));
    expect(nested).toBe(1 + 10 * (1 + 1 + 1 + 10 * 2));
  });

  it('counts depth through fragments, aliases once each, and leaves introspection and __typename out', () => {
    const shape = measure(`
      query { a: listing(id: "1") { ...F } b: listing(id: "2") { ...F __typename } __schema { types { fields { type { ofType { ofType { name } } } } } } }
      fragment F on Listing { seller { c: name } }`);
    expect(shape).toEqual({ depth: 3, cost: 2 * (1 + 1 + 1), aliases: 4 });
  });

  it('treats an unpaginated list outside a page as the default size', () => {
    expect(measure('{ crmContact(userId: "u") { properties { name value } } }').cost).toBe(1 + 1 + 20 * 2);
  });
});

describe('persisted operations', () => {
  it('hashes one operation and the fragments it uses, whatever the layout and the other definitions', () => {
    const a = parse('fragment Z on User { id } query Q { viewer { ...Z } } fragment Unused on User { name }');
    const b = parse('query Q {\n  viewer {\n    ...Z\n  }\n}\n\n# comment\nfragment Z on User {\n  id\n}');
    expect(canonicalOperation(a, getOperationAST(a, 'Q')!)).toBe(canonicalOperation(b, getOperationAST(b)!));
    const manifest = persistedOperationsOf(['query Q { viewer { ...Z } }', 'fragment Z on User { id }']);
    const text = canonicalOperation(b, getOperationAST(b)!);
    expect(manifest).toEqual({ [sha256Hex(text)]: text });
  });
});

describe('rate limiter', () => {
  it('allows the burst, then answers with the seconds until a token is back, and refills over time', () => {
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 3, now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(20); // one token every 20 s
    expect(limiter.take('b')).toBe(0); // keys are independent
    now = 20_000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a', 2)).toBe(40);
  });

  it('is off at 0 and drops idle full buckets when it holds too many keys', () => {
    expect(createRateLimiter({ perMinute: 0 }).take('x', 1000)).toBe(0);
    let now = 0;
    const limiter = createRateLimiter({ perMinute: 60, maxKeys: 2, now: () => now });
    limiter.take('a');
    limiter.take('b');
    now = 120_000;
    limiter.take('c');
    expect(limiter.size).toBe(1);
  });

  it('trusts X-Forwarded-For only as far as the configured proxies', () => {
    const req = (xff?: string) => ({ socket: { remoteAddress: '10.0.0.9' }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as unknown as http.IncomingMessage;
    expect(clientAddress(req('1.1.1.1'), 0)).toBe('10.0.0.9');
    expect(clientAddress(req('6.6.6.6, 2.2.2.2'), 1)).toBe('2.2.2.2'); // the client wrote 6.6.6.6 itself
    expect(clientAddress(req('6.6.6.6, 2.2.2.2, 3.3.3.3'), 2)).toBe('2.2.2.2');
    expect(clientAddress(req(), 1)).toBe('10.0.0.9');
  });
});
