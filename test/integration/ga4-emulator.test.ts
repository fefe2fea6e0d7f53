import { Writable } from 'node:stream';
import { GA4_EMULATOR_STREAM } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createGa4Emulator, type Ga4Emulator } from '../../emulators/ga4/server';
import { createMeasurementProtocolAdapter } from '../../subgraphs/analytics/provider/measurement-protocol.adapter';
import { Ga4Error, type Ga4Payload } from '../../subgraphs/analytics/provider/ga4-gateway.port';

/**
 * The GA4 Measurement Protocol emulator over real HTTP, and our adapter against it: GA4's
 * validation messages for bad payloads at /debug/mp/collect, 2xx from /mp/collect whatever it
 * keeps, and the outages the fault switches make.
 */
let emulator: Ga4Emulator;
let base: string;
const logLines: string[] = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  }),
});
const adapter = () =>
  createMeasurementProtocolAdapter({ endpoint: base, ...GA4_EMULATOR_STREAM, timeoutMs: 500, logger });

const query = `measurement_id=${GA4_EMULATOR_STREAM.measurementId}&api_secret=${GA4_EMULATOR_STREAM.apiSecret}`;
const post = (path: string, body: unknown, q = query) =>
  fetch(`${base}${path}?${q}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const validate = async (body: unknown) => {
  const res = await post('/debug/mp/collect', body);
  expect(res.status).toBe(200);
  return ((await res.json()) as { validationMessages: Array<Record<string, string>> }).validationMessages;
};
const one = (event: unknown, extra: Record<string, unknown> = {}) => ({ client_id: 'c1', ...extra, events: [event] });
const params = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));

beforeAll(async () => {
  emulator = createGa4Emulator({ logger });
  base = await emulator.listen(0);
});
afterAll(() => emulator?.close());
beforeEach(() => emulator.reset());

describe('POST /debug/mp/collect: GA4 validation messages', () => {
  it('answers an empty list for a valid payload and records nothing', async () => {
    expect(
      await validate(
        one(
          { name: 'purchase', params: { transaction_id: 't1', value: 10, currency: 'USD', items: [{ item_id: 'x' }] } },
          { user_id: 'u1', consent: { ad_user_data: 'DENIED', ad_personalization: 'DENIED' } },
        ),
      ),
    ).toEqual([]);
    expect(emulator.state().received).toEqual([]);
  });

  it('answers the message from GA4’s own documentation for a name not starting with a letter', async () => {
    expect(await validate(one({ name: '_badEventName', params: {} }))).toEqual([
      {
        fieldPath: 'events',
        description:
          'Event at index: [0] has invalid name [_badEventName]. Names must start with an alphabetic character.',
        validationCode: 'NAME_INVALID',
      },
    ]);
  });

  const cases: Array<[string, unknown, Partial<Record<string, string>>]> = [
    ['a body that is not JSON', '{"events": [', { fieldPath: '', validationCode: 'VALUE_INVALID' }],
    ['no client_id', { events: [{ name: 'sign_up' }] }, { fieldPath: 'client_id', validationCode: 'VALUE_REQUIRED' }],
    ['no events', { client_id: 'c1', events: [] }, { fieldPath: 'events', validationCode: 'VALUE_REQUIRED' }],
    [
      '26 events (the limit is 25)',
      { client_id: 'c1', events: Array.from({ length: 26 }, () => ({ name: 'sign_up' })) },
      { fieldPath: 'events', validationCode: 'EXCEEDED_MAX_ENTITIES' },
    ],
    [
      'a name with a hyphen',
      one({ name: 'sign-up' }),
      {
        description:
          'Event at index: [0] has invalid name [sign-up]. Only alphanumeric characters and underscores are allowed.',
        validationCode: 'NAME_INVALID',
      },
    ],
    ['a 41-character name', one({ name: `a${'b'.repeat(40)}` }), { validationCode: 'NAME_INVALID' }],
    ['a reserved event name', one({ name: 'session_start' }), { validationCode: 'NAME_RESERVED' }],
    ['a reserved prefix', one({ name: 'google_thing' }), { validationCode: 'NAME_RESERVED' }],
    [
      '26 parameters (the limit is 25)',
      one({ name: 'sign_up', params: params(26) }),
      { fieldPath: 'events[0].params', validationCode: 'EXCEEDED_MAX_ENTITIES' },
    ],
    [
      'a 101-character parameter value',
      one({ name: 'sign_up', params: { method: 'x'.repeat(101) } }),
      { fieldPath: 'events[0].params.method', validationCode: 'VALUE_OUT_OF_BOUNDS' },
    ],
    [
      'a reserved parameter prefix',
      one({ name: 'sign_up', params: { ga_thing: 1 } }),
      { fieldPath: 'events[0].params', validationCode: 'NAME_RESERVED' },
    ],
    [
      'a value without a currency',
      one({ name: 'purchase', params: { value: 10 } }),
      { fieldPath: 'events[0].params.currency', validationCode: 'VALUE_REQUIRED' },
    ],
    [
      'an item with neither id nor name',
      one({ name: 'purchase', params: { value: 1, currency: 'USD', items: [{ price: 1 }] } }),
      { fieldPath: 'events[0].params.items[0]', validationCode: 'VALUE_REQUIRED' },
    ],
    [
      '26 user properties (the limit is 25)',
      one(
        { name: 'sign_up' },
        { user_properties: Object.fromEntries(Array.from({ length: 26 }, (_, i) => [`up${i}`, { value: 'v' }])) },
      ),
      { fieldPath: 'user_properties', validationCode: 'EXCEEDED_MAX_ENTITIES' },
    ],
    [
      'a 25-character user property name',
      one({ name: 'sign_up' }, { user_properties: { [`u${'x'.repeat(24)}`]: { value: 'v' } } }),
      { fieldPath: 'user_properties', validationCode: 'NAME_INVALID' },
    ],
    [
      'a 37-character user property value',
      one({ name: 'sign_up' }, { user_properties: { plan: { value: 'v'.repeat(37) } } }),
      { fieldPath: 'user_properties.plan', validationCode: 'VALUE_OUT_OF_BOUNDS' },
    ],
    [
      'a consent value other than GRANTED or DENIED',
      one({ name: 'sign_up' }, { consent: { ad_user_data: 'YES' } }),
      { fieldPath: 'consent.ad_user_data', validationCode: 'VALUE_INVALID' },
    ],
    [
      'an event older than 72 hours',
      one({ name: 'sign_up', timestamp_micros: (Date.now() - 73 * 3600 * 1000) * 1000 }),
      { fieldPath: 'events[0].timestamp_micros', validationCode: 'VALUE_OUT_OF_BOUNDS' },
    ],
    [
      'a body over 130 kB',
      one({ name: 'sign_up', params: { a: 'x'.repeat(140 * 1024) } }),
      { validationCode: 'VALUE_OUT_OF_BOUNDS' },
    ],
  ];
  it.each(cases)('names the problem of %s', async (_what, body, expected) => {
    const messages = await validate(body);
    expect(messages).toContainEqual(expect.objectContaining(expected));
    for (const m of messages) expect(Object.keys(m).sort()).toEqual(['description', 'fieldPath', 'validationCode']);
  });
});

describe('POST /mp/collect: 2xx, as GA4, whatever it keeps', () => {
  it('records valid events and answers 204', async () => {
    const res = await post('/mp/collect', one({ name: 'sign_up', params: { method: 'email' } }, { user_id: 'u1' }));
    expect(res.status).toBe(204);
    expect(emulator.state().received).toEqual([
      expect.objectContaining({ clientId: 'c1', userId: 'u1', name: 'sign_up', params: { method: 'email' } }),
    ]);
  });

  it('drops invalid events (keeping the valid ones of the request) and still answers 204', async () => {
    const res = await post('/mp/collect', {
      client_id: 'c1',
      events: [{ name: '_bad' }, { name: 'sign_up' }],
    });
    expect(res.status).toBe(204);
    expect(emulator.state().received.map((e) => e.name)).toEqual(['sign_up']);
    expect(emulator.state().dropped).toEqual([expect.objectContaining({ name: '_bad' })]);
  });

  it('drops everything sent with an unknown measurement_id or api_secret, and still answers 204', async () => {
    const res = await post('/mp/collect', one({ name: 'sign_up' }), 'measurement_id=G-OTHER&api_secret=nope');
    expect(res.status).toBe(204);
    expect(emulator.state().received).toEqual([]);
    expect(emulator.state().dropped).toEqual([
      expect.objectContaining({ name: 'sign_up', reason: 'unknown measurement_id or api_secret' }),
    ]);
  });

  it('shows what it received on its page', async () => {
    await post('/mp/collect', one({ name: 'listing_published', params: { listing_id: 'l-1' } }));
    const page = await fetch(`${base}/__emulator`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('listing_published');
    expect(html).toContain('l-1');
  });
});

describe('our Measurement Protocol adapter against the emulator', () => {
  const payload: Ga4Payload = { client_id: 'c9', user_id: 'c9', events: [{ name: 'sign_up', params: {} }] };

  it('collects (204) and validates (200 with GA4’s messages)', async () => {
    const gateway = adapter();
    expect(await gateway.collect(payload, { validate: false, attempt: 1 })).toEqual({
      status: 204,
      validationMessages: [],
    });
    const bad = { ...payload, events: [{ name: '_bad', params: {} }] };
    const checked = await gateway.collect(bad, { validate: true, attempt: 1 });
    expect(checked.status).toBe(200);
    expect(checked.validationMessages).toEqual([expect.objectContaining({ validationCode: 'NAME_INVALID' })]);
    expect(emulator.state().received.map((e) => e.clientId)).toEqual(['c9']);
    await gateway.close();
  });

  it('turns a fault into a transient Ga4Error and records nothing; never logs the api_secret', async () => {
    const gateway = adapter();
    for (const fault of [
      { kind: 'server_error', status: 503 },
      { kind: 'rate_limit' },
      { kind: 'drop_connection' },
      { kind: 'hang', ms: 2000 },
    ] as const) {
      emulator.setFaults([fault]);
      const err = await gateway.collect(payload, { validate: false, attempt: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Ga4Error);
      expect(gateway.isTransient(err)).toBe(true);
    }
    expect(emulator.state().received).toEqual([]);
    expect(await gateway.collect(payload, { validate: false, attempt: 2 })).toMatchObject({ status: 204 });
    expect(emulator.state().received).toHaveLength(1);
    expect(logLines.join('')).not.toContain(GA4_EMULATOR_STREAM.apiSecret);
    await gateway.close();
  });

  it('refuses a bad fault switch with 400', async () => {
    const res = await fetch(`${base}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'explode' }),
    });
    expect(res.status).toBe(400);
  });
});
