import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, getOperationAST, getVariableValues, parse } from 'graphql';
import { projectRoot } from '../../../lib/data-dir';
import { canonicalOperation, persistedOperationsOf, sha256Hex } from '../../../lib/persisted-operations';
import { measureOperation } from '../../../gateway/limits/operation-shape';
import { clientAddress } from '../../../gateway/limits/rate-limiter';
import type http from 'node:http';

const schema = buildSchema(fs.readFileSync(path.join(projectRoot(), 'schema/api.graphql'), 'utf8'));
const measure = (query: string, variables: Record<string, unknown> = {}) => {
  const document = parse(query);
  return measureOperation(schema, document, getOperationAST(document)!, variables, { defaultListSize: 20 });
};

describe('operation shape', () => {
  it('multiplies by page sizes from literals and variables, and bounds a connection’s nodes by its page', () => {
    expect(measure('{ listings(first: 50) { nodes { id title } } }')).toEqual({
      depth: 3,
      cost: 1 + 50 * (1 + 2),
      aliases: 0,
      directives: 0,
      introspects: false,
      visited: 4,
    });
    expect(measure('query($n: Int) { listings(first: $n) { nodes { id } } }', { n: 7 }).cost).toBe(1 + 7 * 2);
    // no first: the default page size
    expect(measure('{ listings { edges { node { id } } } }').cost).toBe(1 + 20 * (1 + 1 * (1 + 1)));
  });

  it('multiplies nested pages, so a page of sellers with their pages costs their product', () => {
    const flat = measure('{ listings(first: 10) { nodes { seller { id } } } }').cost;
    const nested = measure(
      '{ listings(first: 10) { nodes { seller { listings(first: 10) { nodes { id } } } } } }',
    ).cost;
    expect(flat).toBe(1 + 10 * (1 + 1 + 1));
    expect(nested).toBe(1 + 10 * (1 + 1 + 1 + 10 * 2));
  });

  it('counts depth through fragments, aliases once each, and leaves introspection and __typename out', () => {
    const shape = measure(`
      query { a: listing(id: "1") { ...F } b: listing(id: "2") { ...F __typename } __schema { types { fields { type { ofType { ofType { name } } } } } } }
      fragment F on Listing { seller { c: name } }`);
    expect(shape).toMatchObject({ depth: 3, cost: 2 * (1 + 1 + 1), aliases: 4, introspects: true });
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

describe('client address', () => {
  it('trusts X-Forwarded-For only as far as the configured proxies', () => {
    const req = (xff?: string) =>
      ({
        socket: { remoteAddress: '10.0.0.9' },
        headers: xff ? { 'x-forwarded-for': xff } : {},
      }) as unknown as http.IncomingMessage;
    expect(clientAddress(req('1.1.1.1'), 0)).toBe('10.0.0.9');
    expect(clientAddress(req('6.6.6.6, 2.2.2.2'), 1)).toBe('2.2.2.2'); // the client wrote 6.6.6.6 itself
    expect(clientAddress(req('6.6.6.6, 2.2.2.2, 3.3.3.3'), 2)).toBe('2.2.2.2');
    expect(clientAddress(req(), 1)).toBe('10.0.0.9');
  });
});

/** A chain of `levels` fragments in which each spreads the next `fanOut` times: 2^levels uses for fanOut 2. */
function fragmentChain(levels: number, fanOut = 2, leaf = 'id') {
  const defs = Array.from({ length: levels }, (_, i) => `fragment F${i} on User { ${`...F${i + 1} `.repeat(fanOut)}}`);
  defs.push(`fragment F${levels} on User { ${leaf} }`);
  return `query { viewer { ...F0 } } ${defs.join(' ')}`;
}

describe('operation shape against adversarial documents', () => {
  const limits = { depth: 10, cost: 10_000, aliases: 15, directives: 50 };
  const measureLimited = (query: string, variables: Record<string, unknown> = {}) => {
    const document = parse(query);
    return measureOperation(schema, document, getOperationAST(document)!, variables, {
      defaultListSize: 20,
      stopAt: limits,
    });
  };

  it('walks a fragment chain that doubles at every level once per fragment, not once per use', () => {
    // 22 levels froze the gateway for 9 s when every spread was walked again.
    const shape = measureOperation(
      schema,
      parse(fragmentChain(22)),
      getOperationAST(parse(fragmentChain(22)))!,
      {},
      { defaultListSize: 20 },
    );
    expect(shape.cost).toBe(1 + 2 ** 22); // viewer, plus `id` once per use: the work the engine would really do
    expect(shape.depth).toBe(2);
    expect(shape.visited).toBe(1 + 22 * 2 + 1 + 1); // viewer, two spreads per level, the spread into the leaf, the leaf
    // 60 levels: 2^60 uses, still a few dozen visits, and refused on cost as soon as it passes the limit
    const huge = measureLimited(fragmentChain(60));
    expect(huge.stoppedAt).toBe('cost');
    expect(huge.visited).toBeLessThanOrEqual(1 + 60 * 2 + 2);
  });

  it('counts aliases and directives of a fragment at every spread, and stops at the first past the limit', () => {
    const aliasChain = measureLimited(fragmentChain(30, 2, 'a: id'));
    expect(aliasChain.stoppedAt).toBe('aliases');
    expect(aliasChain.visited).toBeLessThanOrEqual(1 + 30 * 2 + 2);
    const directiveChain = measureLimited(fragmentChain(30, 2, 'id @include(if: true)'));
    expect(directiveChain.stoppedAt).toBe('directives');
    const flat = measureLimited(`{ viewer { ${'id @skip(if: false) '.repeat(51)} } }`);
    expect(flat).toMatchObject({ stoppedAt: 'directives', directives: 51 });
  });

  it('fans out wide fragments linearly: 40 fragments each spreading all the later ones', () => {
    const n = 40;
    const defs = Array.from(
      { length: n },
      (_, i) =>
        `fragment W${i} on User { name ${Array.from({ length: n - i - 1 }, (_, j) => `...W${i + j + 1}`).join(' ')} }`,
    );
    const query = `query { viewer { ...W0 } } ${defs.join(' ')}`;
    const shape = measureLimited(query);
    expect(shape.stoppedAt).toBe('cost'); // 2^39 uses of `name`
    const spreads = (n * (n - 1)) / 2;
    expect(shape.visited).toBeLessThanOrEqual(1 + 1 + spreads + n);
  });

  it('charges repeated fields without aliases once per repetition', () => {
    const page = 'listings(first: 100) { nodes { id title } }';
    expect(measureLimited(`{ ${page} }`).cost).toBe(1 + 100 * 3);
    expect(measureLimited(`{ ${`${page} `.repeat(40)} }`)).toMatchObject({ stoppedAt: 'cost' });
  });

  it('uses the coerced variables: a default of 100 costs what it executes', () => {
    const nested =
      'query Q($n: Int = 100) { listings(first: $n) { nodes { seller { listings(first: $n) { nodes { id title } } } } } }';
    expect(measureLimited(nested, { n: 5 }).cost).toBe(1 + 5 * (1 + 1 + 1 + 5 * 3));
    // sent without variables: the default applies, as in execution
    const document = parse(nested);
    const operation = getOperationAST(document)!;
    const { coerced } = getVariableValues(schema, operation.variableDefinitions!, {});
    expect(coerced).toEqual({ n: 100 });
    expect(measureOperation(schema, document, operation, coerced!, { defaultListSize: 20 }).cost).toBe(
      1 + 100 * (1 + 1 + 1 + 100 * 3),
    );
    expect(measureLimited(nested, coerced!).stoppedAt).toBe('cost');
  });

  it('stops at the first level past the depth limit, whatever is below', () => {
    const deep = `{ viewer { ${'listings(first: 1) { nodes { seller { '.repeat(30)}id${' } } }'.repeat(30)} } }`;
    const shape = measureLimited(deep);
    expect(shape.stoppedAt).toBe('depth');
    expect(shape.visited).toBeLessThanOrEqual(12);
  });

  it('survives a fragment cycle (validation refuses it later) without looping', () => {
    const shape = measureLimited(
      'query { viewer { ...A } } fragment A on User { id ...B } fragment B on User { name ...A }',
    );
    expect(shape).toMatchObject({ cost: 3, depth: 2 });
  });
});
