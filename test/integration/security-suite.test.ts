import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildSchema,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  isCompositeType,
  type GraphQLInputType,
} from 'graphql';
import Stripe from 'stripe';
import { API_KEY_SCOPES, type ApiKeyScope } from '../../lib/auth';
import { projectRoot } from '../../lib/data-dir';
import { PERMISSIONS, type Permission, type Rule } from '../../lib/permissions';
import {
  ChargeListingDocument,
  CreateApiKeyDocument,
  CreateCampaignDocument,
  SendCampaignDocument,
  CrmContactDocument,
  SendEmailDocument,
  SyncAllUsersToCrmDocument,
  SyncUserToCrmDocument,
  RetryFailedCrmSyncsDocument,
  ListingPaymentDocument,
  SubmitListingDocument,
  CreateListingDocument,
  ListingDocument,
  ListingsCountDocument,
  ListingsPageDocument,
  RegisterUserDocument,
  TransactionDocument,
  UpdateListingDocument,
  UpdateUserDocument,
  UserDocument,
  UserEmailsDocument,
} from '../generated/graphql';
import { dataOf, errorOf } from '../helpers/graph-client';
import { eventually } from '../helpers/eventually';
import { callSubgraph } from '../helpers/internal';
import { confirmEmail, createListing, listingInput, registerUser, type TestUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * The security test suite (issue 6): injection strings, malformed requests, random inputs to every
 * mutation, webhook replays, and a scan of every log line the run produced for the secrets it used.
 * The figures it prints feed SECURITY.md.
 */
let stack: TestStack;
let admin: TestUser;
let ada: TestUser;
const secretsUsed: string[] = [];
const figures: Record<string, { tried: number; refusedAsExpected: number }> = {};
const fuzzCodes: Record<string, number> = {};
const count = (name: string, tried: number, refused: number) => {
  const f = (figures[name] ??= { tried: 0, refusedAsExpected: 0 });
  f.tried += tried;
  f.refusedAsExpected += refused;
};

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0,"PETS":500}',
    RATE_LIMIT_PER_IP: '0',
    RATE_LIMIT_PER_VIEWER: '0',
    CRM_FLUSH_INTERVAL_MS: '100000',
  });
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
  ada = await registerUser(stack, 'Ada');
  secretsUsed.push(
    admin.token,
    ada.token,
    stack.config.JWT_SECRET,
    stack.config.INTERNAL_SECRET,
    stack.config.STRIPE_WEBHOOK_SECRET,
  );
});
afterAll(async () => {
  await stack?.stop();
  // The figures SECURITY.md quotes, outside the work tree.
  if (Object.keys(figures).length)
    fs.writeFileSync(
      path.join(os.tmpdir(), 'saypro-security-figures.json'),
      JSON.stringify({ figures, fuzzCodes }, null, 2) + '\n',
    );
});

/** Internals that must never reach a client: stack frames, source paths, SQL, driver and Node error names. */
const INTERNALS =
  /\bat \S+ \(|\.ts:\d+|\.js:\d+|node_modules|\/work\/|\bSELECT\b|\bINSERT INTO\b|\bsyntax error at\b|duplicate key|violates|ECONNREFUSED|TypeError|ReferenceError|DrizzleQueryError|stacktrace/i;

export const INJECTIONS = [
  "'; DROP TABLE listings.users; --",
  "Robert'); DELETE FROM listings.listings WHERE ('1'='1",
  "1' OR '1'='1' --",
  '" OR ""="',
  '{"$gt": ""}',
  '{"$where": "sleep(1000)"}',
  '<script>alert(document.cookie)</script>',
  '<img src=x onerror=alert(1)>',
  '${jndi:ldap://evil.example/a} {{7*7}}',
  '../../../etc/passwd %s %n',
  '100% _match_ \\ backslash',
  'ünïcødé ✓ 🚀 ‮rtl',
];

describe('injection strings are data', () => {
  it('are stored and returned verbatim in every text input, and change nothing else', async () => {
    const before = dataOf(await stack.graph(ListingsCountDocument, {}, { token: admin.token })).listings.totalCount;
    let tried = 0;
    for (const text of INJECTIONS) {
      const email = () => `inj.${randomBytes(4).toString('hex')}@example.com`;
      if (/[\u202a-\u202e\u2066-\u2069]/.test(text)) {
        // A bidirectional override reorders what people read: refused in every input, nothing stored.
        const refused = errorOf(await stack.graph(RegisterUserDocument, { input: { name: text, email: email() } }));
        expect(refused.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
        const listing = errorOf(
          await stack.graph(
            CreateListingDocument,
            { input: listingInput({ description: text, category: 'JOBS' }) },
            { token: ada.token },
          ),
        );
        expect(listing.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'description' });
        tried += 2;
        continue;
      }
      // registerUser / updateUser: name (a display name refuses web addresses: mail and pages show it as trusted text)
      const urlInName = /:\/\/|\.[a-z]{2,}\b/i.test(text);
      const registered = await stack.graph(RegisterUserDocument, {
        input: { name: text.slice(0, 100), email: email() },
      });
      if (urlInName) expect(errorOf(registered).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
      const user = urlInName
        ? dataOf(await stack.graph(RegisterUserDocument, { input: { name: 'Injection Tester', email: email() } }))
            .registerUser
        : dataOf(registered).registerUser;
      if (!urlInName) expect(user.name).toBe(text.slice(0, 100).trim());
      const token = await stack.token(user.id);
      const renamed = await stack.graph(
        UpdateUserDocument,
        { id: user.id, input: { name: `${text} 2`.slice(0, 100) } },
        { token },
      );
      if (urlInName) expect(errorOf(renamed).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
      else expect(dataOf(renamed).updateUser.name).toBe(`${text} 2`.slice(0, 100).trim());
      // createListing / updateListing: title, description, location
      const created = dataOf(
        await stack.graph(
          CreateListingDocument,
          { input: listingInput({ title: text, description: text, location: text, category: 'JOBS' }) },
          { token },
        ),
      ).createListing;
      expect([created.title, created.description, created.location]).toEqual([text.trim(), text.trim(), text.trim()]);
      const read = dataOf(await stack.graph(ListingDocument, { id: created.id })).listing;
      expect([read.title, read.description, read.location]).toEqual([text.trim(), text.trim(), text.trim()]);
      const updated = dataOf(
        await stack.graph(
          UpdateListingDocument,
          { id: created.id, input: { title: `x ${text}`, description: `y ${text}` } },
          { token },
        ),
      ).updateListing;
      expect([updated.title, updated.description]).toEqual([`x ${text}`.trim(), `y ${text}`.trim()]);
      // search: matches only listings holding the text, never everything
      const found = dataOf(
        await stack.graph(ListingsPageDocument, { filter: { search: `x ${text}`.slice(0, 100) }, first: 100 }),
      ).listings;
      expect(found.edges.map((e) => e.node.id)).toEqual([created.id]);
      // createApiKey: name
      const key = dataOf(
        await stack.graph(
          CreateApiKeyDocument,
          { name: text.slice(0, 100), scopes: ['USERS_READ'] },
          { token: admin.token },
        ),
      ).createApiKey;
      expect(key.apiKey.name).toBe(text.slice(0, 100).trim());
      secretsUsed.push(key.secret, token);
      // createCampaign: name, subject, headline, body, call-to-action label (rendered escaped in the mail)
      const campaign = dataOf(
        await stack.graph(
          CreateCampaignDocument,
          {
            input: {
              name: text.slice(0, 100),
              subject: text.slice(0, 150),
              headline: text.slice(0, 150),
              body: text,
              ctaLabel: text.slice(0, 40),
              ctaUrl: 'https://saypro.example/deals',
              userIds: [ada.id],
            },
          },
          { token: admin.token },
        ),
      ).createCampaign;
      // The name is trimmed like every name; the content is kept exactly as written.
      expect([campaign.name, campaign.subject, campaign.headline, campaign.body, campaign.ctaLabel]).toEqual([
        text.slice(0, 100).trim(),
        text.slice(0, 150),
        text.slice(0, 150),
        text,
        text.slice(0, 40),
      ]);
      tried += 13;
    }
    // nothing else changed: the tables are there and hold exactly what was added
    const after = dataOf(await stack.graph(ListingsCountDocument, {}, { token: admin.token })).listings.totalCount;
    expect(after).toBe(before + INJECTIONS.filter((t) => !/[\u202a-\u202e\u2066-\u2069]/.test(t)).length); // the refused ones stored nothing
    expect(dataOf(await stack.graph(UserDocument, { id: ada.id }, { token: ada.token })).user.email).toBe(ada.email);
    count('injection strings stored verbatim', tried, tried);
  });
});

describe('mail that carries attacker text', () => {
  it('is not sent: display names refuse web addresses and line breaks, and no subject line quotes what a user chose', async () => {
    const email = () => `phish.${randomBytes(4).toString('hex')}@example.com`;
    const names = [
      'URGENT verify your account at http://evil.example/login',
      'Log in at saypro-support.example now',
      'Bob\r\nBcc: victim@example.com',
      'Ada\u0007\u001b[2J',
    ];
    for (const name of names) {
      const refused = errorOf(await stack.graph(RegisterUserDocument, { input: { name, email: email() } }));
      expect({ name, code: refused.extensions.code, field: refused.extensions.field }).toEqual({
        name,
        code: 'BAD_USER_INPUT',
        field: 'name',
      });
    }
    const plain = await registerUser(stack, 'Quentin Quotable');
    const welcome = await eventually(
      async () =>
        stack.sendgrid!.messages().filter((m) => m.to.some((t) => t.email.toLowerCase() === plain.email.toLowerCase())),
      (m) => m.length === 1,
    );
    expect(welcome[0]!.subject).toBe('Welcome to SayPro');
    count(
      'attacker text in registration mail (URL and CR/LF in the name, control characters)',
      names.length + 1,
      names.length + 1,
    );
  });
});

describe('malformed requests', () => {
  const post = (body: string, contentType?: string) =>
    fetch(stack.urls.gateway, { method: 'POST', headers: contentType ? { 'content-type': contentType } : {}, body });

  it('get 400 for malformed JSON and wrong content types, with a code and no internals', async () => {
    const cases: Array<[string, string | undefined]> = [
      ['{"query": ', 'application/json'],
      ['{"query": "{ viewer { id } }"', 'application/json'],
      ['[1, 2', 'application/json'],
      ['null', 'application/json'],
      ['"just a string"', 'application/json'],
      ['{"query": 42}', 'application/json'],
      ['{"query": "{ viewer { id } }", "variables": [1]}', 'application/json'],
      ['query={ viewer { id } }', 'application/x-www-form-urlencoded'],
      ['{ viewer { id } }', 'text/plain'],
      ['--x\r\nContent-Disposition: form-data; name="q"\r\n\r\n{}\r\n--x--', 'multipart/form-data; boundary=x'],
      ['{"query": "{ viewer { id } }"}', undefined],
      ['\u0000\u0001\u0002', 'application/json'],
    ];
    for (const [body, type] of cases) {
      const res = await post(body, type);
      const text = await res.text();
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(text).not.toMatch(INTERNALS);
      expect(JSON.parse(text).errors[0].extensions.code).toMatch(/^(BAD_REQUEST|GRAPHQL_PARSE_FAILED)$/);
    }
    count('malformed JSON and wrong content types', cases.length, cases.length);
  });

  it('REST endpoints refuse malformed JSON and non-object bodies with 400', async () => {
    const url = new URL('/payments/charge', stack.urls.gateway);
    const bodies = ['{', '[]', '"x"', 'null', '{"listing_id": 5}'];
    for (const body of bodies) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.token}` },
        body,
      });
      expect(res.status).toBe(400);
      expect(await res.text()).not.toMatch(INTERNALS);
    }
    count('REST malformed bodies', bodies.length, bodies.length);
  });
});

describe('random inputs to every mutation', () => {
  const schema = buildSchema(fs.readFileSync(path.join(projectRoot(), 'schema/api.graphql'), 'utf8'));
  const mutations = Object.values(schema.getMutationType()!.getFields());
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const STRINGS = [
    '',
    ' ',
    'a',
    'ok title',
    'x'.repeat(121),
    'y'.repeat(5000),
    '\u0000',
    'nul\u0000inside',
    '\ud800',
    '🚀'.repeat(40),
    ...INJECTIONS,
    randomUUID(),
    '00000000-0000-0000-0000-000000000000',
    'pm_card_visa',
    'pm_card_chargeDeclined',
    'USD',
    'usd',
    'XXX',
    '-1',
    'NaN',
    'a@b',
    'not-an-email',
  ];
  const INTS = [0, 1, -1, 100, 999_999_999, 2 ** 31 - 1, -(2 ** 31), 7];
  const idsOf = () => [randomUUID(), 'not-a-uuid', '', ada.id, '1'.repeat(300)];

  function value(type: GraphQLInputType, depth = 0): unknown {
    if (!isNonNullType(type) && rand() < 0.15) return null;
    const t = getNullableType(type) as GraphQLInputType;
    if (isListType(t)) return Array.from({ length: Math.floor(rand() * 4) }, () => value(t.ofType, depth + 1));
    if (isEnumType(t)) return pick(t.getValues()).value;
    if (isInputObjectType(t)) {
      const out: Record<string, unknown> = {};
      for (const f of Object.values(t.getFields()))
        if (isNonNullType(f.type) || rand() < 0.7) out[f.name] = value(f.type, depth + 1);
      return out;
    }
    if (isScalarType(t)) {
      if (t.name === 'Int') return pick(INTS);
      if (t.name === 'Boolean') return rand() < 0.5;
      if (t.name === 'ID') return pick(idsOf());
      return pick(STRINGS);
    }
    return null;
  }

  it('never answer 500 or show internals (a few hundred generated calls)', async () => {
    const tokens = [admin.token, ada.token, undefined];
    let tried = 0;
    let clean = 0;
    const codes: Record<string, number> = {};
    for (const field of mutations) {
      const defs = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
      const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
      const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
      const query = `mutation Fuzz${defs ? `(${defs})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
      for (let i = 0; i < 25; i++) {
        const variables = Object.fromEntries(field.args.map((a) => [a.name, value(a.type)]));
        const token = pick(tokens);
        const res = await fetch(stack.urls.gateway, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        const text = await res.text();
        tried++;
        const body = JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> };
        for (const e of body.errors ?? [])
          codes[e.extensions?.code ?? 'none'] = (codes[e.extensions?.code ?? 'none'] ?? 0) + 1;
        const problem =
          res.status >= 500 ||
          INTERNALS.test(text) ||
          (body.errors ?? []).some((e) => !e.extensions?.code || e.extensions.code === 'INTERNAL_SERVER_ERROR');
        if (problem)
          throw new Error(
            `${field.name} with ${JSON.stringify(variables).slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`,
          );
        clean++;
      }
    }
    expect(tried).toBeGreaterThanOrEqual(300);
    count('generated inputs to every mutation (no 500, no internals)', tried, clean);
    Object.assign(fuzzCodes, codes);
  });
});

describe('webhooks', () => {
  it('refuse a replayed Stripe event: the same signed delivery twice has one effect', async () => {
    const listing = await createListing(stack, ada);
    const { transactionId } = dataOf(
      await stack.graph(
        ChargeListingDocument,
        { input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: `sec-${randomUUID()}` } },
        { token: ada.token },
      ),
    ).chargeListing;
    const reference = dataOf(await stack.graph(TransactionDocument, { id: transactionId }, { token: ada.token }))
      .transaction.providerReference!;
    const payload = JSON.stringify({
      id: `evt_replay_${randomUUID()}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: reference, object: 'payment_intent' } },
    });
    const signature = new Stripe('sk_test_emulator', { telemetry: false }).webhooks.generateTestHeaderString({
      payload,
      secret: stack.config.STRIPE_WEBHOOK_SECRET,
    });
    const deliver = () =>
      fetch(new URL('/webhooks/stripe', stack.urls.gateway), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      }).then((r) => r.json());
    expect(await deliver()).toEqual({ received: true, outcome: 'processed' });
    expect(await deliver()).toEqual({ received: true, outcome: 'duplicate' });
    // the same body re-signed with a timestamp past the 5 minute tolerance is refused outright
    const stale = new Stripe('sk_test_emulator', { telemetry: false }).webhooks.generateTestHeaderString({
      payload,
      secret: stack.config.STRIPE_WEBHOOK_SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    const res = await fetch(new URL('/webhooks/stripe', stack.urls.gateway), {
      method: 'POST',
      headers: { 'stripe-signature': stale },
      body: payload,
    });
    expect(res.status).toBe(400);
    count('webhook replays (duplicate and stale)', 2, 2);
  });
});

describe('mutation payloads obey the read permissions', () => {
  /** GraphQL's enum for each scope. */
  const ENUM = {
    'users:read': 'USERS_READ',
    'payments:read': 'PAYMENTS_READ',
    'crm:read': 'CRM_READ',
    'crm:write': 'CRM_WRITE',
    'email:read': 'EMAIL_READ',
    'email:send': 'EMAIL_SEND',
  } as const;
  const keyWith = async (scopes: ApiKeyScope[]) =>
    dataOf(
      await stack.graph(
        CreateApiKeyDocument,
        { name: `payload ${scopes.join(' ')}`, scopes: scopes.map((s) => ENUM[s]) },
        { token: admin.token },
      ),
    ).createApiKey.secret;
  const restAs = async (key: string, path: string, body: unknown) => {
    const res = await fetch(new URL(path, stack.urls.gateway), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  let victim: TestUser;
  let campaignId: string;
  beforeAll(async () => {
    victim = await registerUser(stack, 'Beatrix Quillfeather');
    const listing = await createListing(stack, victim); // VEHICLES: paid, so the victim has a spend
    dataOf(
      await stack.graph(
        ChargeListingDocument,
        {
          input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: `payload-${randomUUID()}` },
        },
        { token: victim.token },
      ),
    );
    const campaign = {
      name: `Payload ${randomUUID()}`,
      subject: 'Deals',
      headline: 'Deals',
      body: 'Deals.',
      userIds: [victim.id],
    };
    campaignId = dataOf(await stack.graph(CreateCampaignDocument, { input: campaign }, { token: admin.token }))
      .createCampaign.id;
  });

  /**
   * Every mutation an API key's scope opens, run for the victim: what comes back. `reads` are the
   * fields of the payload the key's read scope would open (null without it).
   */
  const WRITES: Partial<Record<Permission, (key: string) => Promise<{ payload: unknown; guarded: unknown[] }>>> = {
    'crm.sync': async (key) => {
      const contact = dataOf(
        await stack.graph(SyncUserToCrmDocument, { userId: victim.id }, { headers: { 'x-api-key': key } }),
      ).syncUserToCrm;
      const rest = await restAs(key, '/crm/add-user', { user_id: victim.id });
      expect(rest.status).toBe(200);
      expect({ graph: contact.syncStatus, rest: rest.body.sync_status }).toEqual({ graph: 'SYNCED', rest: 'synced' });
      const b = rest.body;
      return {
        payload: { contact, rest: b },
        guarded: [
          contact.hubspotId,
          contact.lifecycleStage,
          contact.properties,
          b.crm_id,
          b.email,
          b.name,
          b.total_spent,
          b.listing_count,
          b.lifecycle_stage,
        ],
      };
    },
    'crm.failed.retry': async (key) => ({
      payload: dataOf(
        await stack.graph(RetryFailedCrmSyncsDocument, { userIds: [victim.id] }, { headers: { 'x-api-key': key } }),
      ),
      guarded: [],
    }),
    'crm.bulk.start': async (key) => ({
      payload: dataOf(await stack.graph(SyncAllUsersToCrmDocument, {}, { headers: { 'x-api-key': key } })),
      guarded: [],
    }),
    'email.send': async (key) => {
      const message = dataOf(
        await stack.graph(
          SendEmailDocument,
          { input: { userId: victim.id, template: 'WELCOME', idempotencyKey: `payload-${randomUUID()}` } },
          { headers: { 'x-api-key': key } },
        ),
      ).sendEmail;
      const rest = await restAs(key, '/email/send', { user_id: victim.id, template: 'welcome' });
      expect(rest.status).toBe(200);
      return { payload: { message, rest: rest.body }, guarded: [message.to, message.subject, rest.body.to] };
    },
    'email.campaign.send': async (key) => {
      const sent = dataOf(
        await stack.graph(SendCampaignDocument, { id: campaignId }, { headers: { 'x-api-key': key } }),
      ).sendCampaign;
      return { payload: sent, guarded: [sent.stats, sent.audience] };
    },
  };
  /** The read scope that opens what each write's payload guards. */
  const READ_SCOPE: Partial<Record<ApiKeyScope, ApiKeyScope>> = { 'crm:write': 'crm:read', 'email:send': 'email:read' };

  it.each([...API_KEY_SCOPES])('leak nothing to a key with only %s', async (scope) => {
    const writes = (Object.keys(PERMISSIONS) as Permission[]).filter(
      (p) => (PERMISSIONS[p] as Rule).scope === scope && !/\.read$|^user\.(email|list)$/.test(p),
    );
    const key = await keyWith([scope]);
    let tried = 0;
    for (const permission of writes) {
      const probe = WRITES[permission];
      expect({ permission, probed: probe !== undefined }).toEqual({ permission, probed: true }); // a new write needs its probe here
      const { payload, guarded } = await probe!(key);
      const text = JSON.stringify(payload);
      expect({ permission, email: text.includes(victim.email), name: text.includes('Quillfeather') }).toEqual({
        permission,
        email: false,
        name: false,
      });
      expect({ permission, guarded }).toEqual({ permission, guarded: guarded.map(() => null) });
      tried++;
    }
    count('mutation payloads read by a key without the read scope', tried, tried);
  });

  it('show what the payload guards to a key that holds the read scope too', async () => {
    for (const [write, read] of Object.entries(READ_SCOPE) as Array<[ApiKeyScope, ApiKeyScope]>) {
      const key = await keyWith([write, read]);
      const probe = write === 'crm:write' ? WRITES['crm.sync']! : WRITES['email.send']!;
      const { payload, guarded } = await probe(key);
      expect(JSON.stringify(payload)).toContain(victim.email);
      expect({ write, first: guarded[0] != null }).toEqual({ write, first: true }); // the HubSpot id, the address
    }
  });
});

describe('the posting fee cannot be avoided by changing category', () => {
  const update = (id: string, category: 'JOBS' | 'PETS' | 'VEHICLES') =>
    stack.graph(UpdateListingDocument, { id, input: { category } }, { token: ada.token });
  const state = async (id: string) => {
    const { listing } = dataOf(await stack.graph(ListingDocument, { id }, { token: ada.token }));
    const { listing: paid } = dataOf(await stack.graph(ListingPaymentDocument, { id }, { token: ada.token }));
    return { category: listing.category, status: listing.status, paymentStatus: paid.paymentStatus };
  };
  const charge = (listingId: string, paymentMethodId: string) =>
    stack.graph(
      ChargeListingDocument,
      { input: { listingId, paymentMethodId, idempotencyKey: `fee-${randomUUID()}` } },
      { token: ada.token },
    );
  const inVehicles = async () =>
    dataOf(
      await stack.graph(ListingsPageDocument, { filter: { category: 'VEHICLES' }, first: 100 }),
    ).listings.edges.map((e) => e.node.id);
  let tried = 0;
  afterAll(() =>
    count(
      'posting-fee evasion by changing category (ACTIVE free → paid, draft round trip, dearer category after the charge began)',
      tried,
      tried,
    ),
  );

  it('refuses moving an ACTIVE free listing into a paid category, with PAYMENT_REQUIRED', async () => {
    const free = await createListing(stack, ada, { category: 'JOBS' });
    expect(free.status).toBe('ACTIVE');
    const refused = errorOf(await update(free.id, 'VEHICLES'));
    expect(refused.extensions).toMatchObject({
      code: 'PAYMENT_REQUIRED',
      fee: { amount: 1000, currency: 'USD' },
      paidFee: { amount: 0, currency: 'USD' },
    });
    expect(await state(free.id)).toMatchObject({ category: 'JOBS', status: 'ACTIVE' });
    expect(await inVehicles()).not.toContain(free.id);
    tried++;
  });

  it('closes the draft round trip: a draft made free to submit cannot go back to the paid category', async () => {
    const draft = await createListing(stack, ada, { category: 'VEHICLES', draft: true });
    dataOf(await update(draft.id, 'JOBS'));
    expect(
      dataOf(await stack.graph(SubmitListingDocument, { id: draft.id }, { token: ada.token })).submitListing.status,
    ).toBe('ACTIVE');
    expect(errorOf(await update(draft.id, 'VEHICLES')).extensions.code).toBe('PAYMENT_REQUIRED');
    expect(await inVehicles()).not.toContain(draft.id);
    tried++;
  });

  it('re-prices a listing waiting for payment: a free category publishes it, and a cheaper payment begun before a move to a dearer one is refunded', async () => {
    const toFree = await createListing(stack, ada, { category: 'PETS' });
    expect(toFree.status).toBe('PENDING_PAYMENT');
    expect(dataOf(await update(toFree.id, 'JOBS')).updateListing.status).toBe('ACTIVE');

    const listing = await createListing(stack, ada, { category: 'PETS' });
    const begun = dataOf(await charge(listing.id, 'pm_card_authenticationRequired')).chargeListing;
    expect(begun).toMatchObject({ status: 'REQUIRES_ACTION', amount: 500 });
    expect(dataOf(await update(listing.id, 'VEHICLES')).updateListing.status).toBe('PENDING_PAYMENT');
    stack.stripe!.completeAction(begun.transaction.providerReference!);
    await stack.stripe!.flushWebhooks();
    const refunded = await eventually(
      () => state(listing.id),
      (l) => l.paymentStatus === 'REFUNDED',
    );
    expect(refunded.status).toBe('PENDING_PAYMENT');
    const paid = dataOf(await charge(listing.id, 'pm_card_visa')).chargeListing;
    expect(paid).toMatchObject({ status: 'SUCCEEDED', amount: 1000 });
    expect(
      await eventually(
        () => state(listing.id),
        (l) => l.status === 'ACTIVE',
      ),
    ).toMatchObject({ category: 'VEHICLES', status: 'ACTIVE' });
    tried++;
  });
});

/** What SendGrid (the emulator) was handed for `email`, and the confirmation link in a mail's text. */
const inbox = (email: string) =>
  stack.sendgrid!.messages().filter((m) => m.to.some((t) => t.email.toLowerCase() === email.toLowerCase()));
const linkIn = (text: string | undefined) => /Confirm this address: (\S+)/.exec(text ?? '')?.[1];

describe('an email address nobody confirmed', () => {
  const post = (link: string) =>
    fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
  const promotion = { subject: 'Deals', headline: 'Deals', body: 'Deals.' };
  const sendPromotion = async (user: TestUser) =>
    dataOf(
      await stack.graph(
        SendEmailDocument,
        {
          input: {
            userId: user.id,
            template: 'PROMOTION',
            data: promotion,
            idempotencyKey: `unconfirmed-${randomUUID()}`,
          },
        },
        { token: admin.token },
      ),
    ).sendEmail;

  it('gets only its confirmation mail and is not sent to the CRM until the link in that mail is used', async () => {
    const una = await registerUser(stack, 'Una Unconfirmed', ['user'], { confirmed: false });
    const [welcome] = await eventually(
      async () => inbox(una.email),
      (m) => m.length === 1,
    );
    const link = linkIn(welcome!.text);
    expect(link).toMatch(/\/email\/confirm\?token=/);
    expect(new URL(link!).origin).toBe(new URL(stack.urls.gateway).origin);
    expect(await sendPromotion(una)).toMatchObject({
      status: 'SUPPRESSED',
      statusReason: 'the user has not confirmed this address yet',
    });
    const sync = errorOf(await stack.graph(SyncUserToCrmDocument, { userId: una.id }, { token: admin.token }));
    expect(sync.extensions.code).toBe('BAD_USER_INPUT');
    expect(stack.hubspot!.contacts().some((c) => c.properties.saypro_user_id === una.id)).toBe(false);

    const forged = link!.replace(
      /token=([^.]+)\.(\d+)\.(.+)$/,
      (_, id: string, exp: string) => `token=${id}.${Number(exp) + 3600}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    );
    expect((await post(forged)).status).toBe(400);
    const page = await fetch(link!);
    expect({ status: page.status, form: (await page.text()).includes('<form method="post"') }).toEqual({
      status: 200,
      form: true,
    });
    expect(dataOf(await stack.graph(UserDocument, { id: una.id }, { token: una.token })).user).toMatchObject({
      emailVerified: false,
    }); // GET alone confirms nothing
    const confirmed = await post(link!);
    expect({ status: confirmed.status, page: (await confirmed.text()).includes('Your address is confirmed') }).toEqual({
      status: 200,
      page: true,
    });
    expect(dataOf(await stack.graph(UserDocument, { id: una.id }, { token: una.token })).user).toMatchObject({
      emailVerified: true,
    });
    expect(['SENT', 'DELIVERED']).toContain((await sendPromotion(una)).status);
    expect(
      dataOf(await stack.graph(SyncUserToCrmDocument, { userId: una.id }, { token: admin.token })).syncUserToCrm
        .syncStatus,
    ).toBe('SYNCED');
    count('unconfirmed addresses: mail, CRM sync, forged link, GET, the real link', 5, 5);
  });

  it('after a change of address: the new one gets its own link and nothing else, and the old link confirms nothing', async () => {
    const cam = await registerUser(stack, 'Cam Changer', ['user'], { confirmed: false });
    const [welcome] = await eventually(
      async () => inbox(cam.email),
      (m) => m.length === 1,
    );
    const oldLink = linkIn(welcome!.text)!;
    const newEmail = `cam.new.${randomBytes(4).toString('hex')}@example.com`;
    const changed = dataOf(
      await stack.graph(UpdateUserDocument, { id: cam.id, input: { email: newEmail } }, { token: cam.token }),
    ).updateUser;
    expect(changed).toMatchObject({ email: newEmail });
    const [confirmation] = await eventually(
      async () => inbox(newEmail),
      (m) => m.length === 1,
    );
    expect(confirmation!.subject).toBe('Your SayPro email address');
    expect((await post(oldLink)).status).toBe(400); // signed for the old address
    expect(await sendPromotion(cam)).toMatchObject({ status: 'SUPPRESSED' });
    expect((await post(linkIn(confirmation!.text)!)).status).toBe(200);
    expect(dataOf(await stack.graph(UserDocument, { id: cam.id }, { token: cam.token })).user).toMatchObject({
      email: newEmail,
      emailVerified: true,
    });
    count('unconfirmed addresses: mail, CRM sync, forged link, GET, the real link', 2, 2);
  });
});

describe('one email address', () => {
  const hex = () => randomBytes(4).toString('hex');
  /** What a caller can see of its own account after the mutation: the answer's fields, its mail history, its state. */
  const seenBy = async (
    user: { id: string; token: string },
    answer: Record<string, unknown>,
    email: string,
    template: 'WELCOME' | 'CONFIRM_EMAIL',
  ) => {
    const history = await eventually(
      async () =>
        dataOf(await stack.graph(UserEmailsDocument, { id: user.id, first: 10 }, { token: user.token })).user.emails!
          .nodes,
      (n) => n.some((m) => m.template === template) && n.every((m) => m.status !== 'QUEUED' && m.status !== 'SENDING'),
    );
    const { user: state } = dataOf(await stack.graph(UserDocument, { id: user.id }, { token: user.token }));
    return {
      fields: Object.keys(answer).sort(),
      // SENT or DELIVERED depends on when the delivery webhook lands, not on the address.
      mail: history.map((m) => ({
        template: m.template,
        kind: m.kind,
        subject: m.subject,
        status: m.status === 'DELIVERED' ? 'SENT' : m.status,
        statusReason: m.statusReason,
      })),
      email: state.email === email ? 'the address given' : state.email,
      emailVerified: state.emailVerified,
      crm: errorOf(await stack.graph(SyncUserToCrmDocument, { userId: user.id }, { token: user.token })).extensions
        .code,
    };
  };

  it('answers registration and a change of address alike whether or not another account confirmed it; the mail to it says which', async () => {
    const owner = await registerUser(stack, 'Olga Owner'); // confirmed
    const register = async (email: string) => {
      const r = await stack.graph(RegisterUserDocument, { input: { name: 'Eve Enumerator', email } });
      expect(r.errors).toBeUndefined();
      const user = dataOf(r).registerUser;
      return seenBy({ id: user.id, token: await stack.token(user.id) }, user, email, 'WELCOME');
    };
    const fresh = `fresh.${hex()}@example.com`;
    const [taken, free] = [await register(owner.email.toUpperCase()), await register(fresh)];
    expect(taken).toEqual(free);
    expect(taken.mail).toEqual([expect.objectContaining({ template: 'WELCOME', subject: 'Welcome to SayPro' })]);

    // Address changes: a user moves to the owner's address, another to a free one.
    const change = async (email: string) => {
      const mover = await registerUser(stack, 'Mo Mover');
      const r = await stack.graph(UpdateUserDocument, { id: mover.id, input: { email } }, { token: mover.token });
      expect(r.errors).toBeUndefined();
      const seen = await seenBy(mover, dataOf(r).updateUser, email, 'CONFIRM_EMAIL');
      return { ...seen, mail: seen.mail.filter((m) => m.template === 'CONFIRM_EMAIL') };
    };
    const freeToo = `free.${hex()}@example.com`;
    const [movedToTaken, movedToFree] = [await change(owner.email), await change(freeToo)];
    expect(movedToTaken).toEqual(movedToFree);
    expect(movedToTaken.mail).toEqual([
      expect.objectContaining({ template: 'CONFIRM_EMAIL', subject: 'Your SayPro email address' }),
    ]);

    // The mailboxes tell the difference: the owner learns what happened and gets no link; free addresses get theirs.
    const ownersMail = await eventually(
      async () => inbox(owner.email).filter((m) => m.subject !== 'Welcome to SayPro' || !linkIn(m.text)),
      (m) => m.length === 2,
    );
    expect(ownersMail.map((m) => m.text)).toEqual([
      expect.stringContaining('It already belongs to a SayPro account'),
      expect.stringContaining('it already belongs to another SayPro account'),
    ]);
    expect(ownersMail.map((m) => linkIn(m.text))).toEqual([undefined, undefined]);
    expect(ownersMail.every((m) => !m.text?.includes('Eve') && !m.text?.includes('Mo Mover'))).toBe(true); // the other party's chosen name is not shown to the owner
    expect(
      linkIn(
        (
          await eventually(
            async () => inbox(fresh),
            (m) => m.length === 1,
          )
        )[0]!.text,
      ),
    ).toMatch(/\/email\/confirm\?token=/);
    expect(
      linkIn(
        (
          await eventually(
            async () => inbox(freeToo),
            (m) => m.length === 1,
          )
        )[0]!.text,
      ),
    ).toMatch(/\/email\/confirm\?token=/);
    // And the owner's account is as it was.
    expect(dataOf(await stack.graph(UserDocument, { id: owner.id }, { token: owner.token })).user).toMatchObject({
      email: owner.email,
      emailVerified: true,
    });
    count('account enumeration (registration, address change)', 2, 2);
  });

  it('can be named in at most ACCOUNT_EMAIL_LIMIT_PER_HOUR registrations and address changes an hour', async () => {
    const address = `often.${hex()}@example.com`;
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await stack.graph(RegisterUserDocument, { input: { name: 'Often Tried', email: address } });
      codes.push(r.errors?.length ? String(r.errors[0]!.extensions?.code) : 'OK');
    }
    expect(codes).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'RATE_LIMITED']);
    const change = await stack.graph(
      UpdateUserDocument,
      { id: ada.id, input: { email: address.toUpperCase() } },
      { token: ada.token },
    );
    expect(errorOf(change).extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    count('one address tried again and again (registration, address change)', 2, 2);
  });

  it('receives at most ACCOUNT_MAIL_LIMIT_PER_RECIPIENT_PER_HOUR confirmation mails an hour, whatever sends them', async () => {
    const address = `mailbombed.${hex()}@example.com`;
    const statuses: string[] = [];
    for (let i = 0; i < 6; i++) {
      const sent = dataOf(
        await stack.graph(
          SendEmailDocument,
          { input: { to: address, template: 'WELCOME', data: { name: 'Bo' }, idempotencyKey: `bomb-${hex()}` } },
          { token: admin.token },
        ),
      ).sendEmail;
      statuses.push(sent.status === 'SUPPRESSED' ? `SUPPRESSED: ${sent.statusReason}` : 'SENT');
    }
    expect(statuses.slice(0, 5).every((s) => s === 'SENT')).toBe(true);
    expect(statuses[5]).toMatch(/^SUPPRESSED: this address was sent 5 confirmation mails in the last hour/);
    expect(inbox(address)).toHaveLength(5);
    count('one address mailed again and again (confirmation mail per recipient)', 1, 1);
  });
});

describe('a HubSpot contact', () => {
  const hubspot = () => stack.urls.emulators.hubspot!.replace(/\/__emulator$/, '');
  const crmContactOf = async (user: TestUser) =>
    dataOf(await stack.graph(CrmContactDocument, { userId: user.id }, { token: user.token })).crmContact;

  it('cannot be taken over by setting its address: the CRM identifies contacts by our user id and never adopts one by email', async () => {
    // A lead HubSpot knew before (a form, an import): not a SayPro user.
    const leadEmail = `lead.${randomBytes(4).toString('hex')}@example.com`;
    const res = await fetch(`${hubspot()}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer pat-test' },
      body: JSON.stringify({
        properties: { email: leadEmail, firstname: 'Lena', lastname: 'Lead', lifecyclestage: 'lead' },
      }),
    });
    expect(res.status).toBe(201);
    const lead = (await res.json()) as { id: string };
    const mallory = await registerUser(stack, 'Mallory Taker');
    dataOf(
      await stack.graph(UpdateUserDocument, { id: mallory.id, input: { email: leadEmail } }, { token: mallory.token }),
    );
    // Unconfirmed, the address is not sent to the CRM at all.
    expect(
      errorOf(await stack.graph(SyncUserToCrmDocument, { userId: mallory.id }, { token: mallory.token })).message,
    ).toMatch(/not confirmed/);
    // Even confirmed (say the lead's owner registers for real), the CRM does not adopt the lead by its address.
    await confirmEmail(stack, mallory.id, leadEmail);
    const sync = errorOf(await stack.graph(SyncUserToCrmDocument, { userId: mallory.id }, { token: mallory.token }));
    expect(sync.extensions.code).toBe('BAD_USER_INPUT');
    expect(sync.message).not.toContain(lead.id); // HubSpot's conflict names the other contact: not passed on
    const contact = await crmContactOf(mallory);
    expect(contact).toMatchObject({ hubspotId: null, lifecycleStage: null });
    expect(contact.syncStatus).not.toBe('SYNCED'); // FAILED, or PENDING again after the confirmation's user.updated
    const stored = stack.hubspot!.contacts().find((c) => c.id === lead.id)!;
    expect(stored.properties).toMatchObject({
      email: leadEmail,
      firstname: 'Lena',
      lastname: 'Lead',
      lifecyclestage: 'lead',
    });
    expect(stored.properties.saypro_user_id ?? null).toBeNull();
    count('CRM contact takeover by address (a HubSpot lead, a former user’s contact)', 1, 1);
  });

  it('follows its user to a new address, and a former address gives no one else that contact', async () => {
    const olive = await registerUser(stack, 'Olive Oldaddress');
    const before = dataOf(
      await stack.graph(SyncUserToCrmDocument, { userId: olive.id }, { token: olive.token }),
    ).syncUserToCrm;
    const newEmail = `olive.new.${randomBytes(4).toString('hex')}@example.com`;
    dataOf(await stack.graph(UpdateUserDocument, { id: olive.id, input: { email: newEmail } }, { token: olive.token }));
    await confirmEmail(stack, olive.id, newEmail);
    const after = dataOf(
      await stack.graph(SyncUserToCrmDocument, { userId: olive.id }, { token: olive.token }),
    ).syncUserToCrm;
    expect(after.hubspotId).toBe(before.hubspotId); // the same contact, moved
    expect(stack.hubspot!.contacts().find((c) => c.id === before.hubspotId)!.properties.email).toBe(newEmail);
    const taker = await registerUser(stack, 'Terry Taker');
    dataOf(
      await stack.graph(UpdateUserDocument, { id: taker.id, input: { email: olive.email } }, { token: taker.token }),
    );
    await confirmEmail(stack, taker.id, olive.email);
    const theirs = dataOf(
      await stack.graph(SyncUserToCrmDocument, { userId: taker.id }, { token: taker.token }),
    ).syncUserToCrm;
    expect(theirs.hubspotId).not.toBe(before.hubspotId);
    expect(stack.hubspot!.contacts().find((c) => c.id === before.hubspotId)!.properties).toMatchObject({
      email: newEmail,
      saypro_user_id: olive.id,
      firstname: 'Olive',
    });
    count('CRM contact takeover by address (a HubSpot lead, a former user’s contact)', 1, 1);
  });
});

describe('a captured internal viewer header', () => {
  it('works for nothing else: not on another subgraph, not for another operation, not twice', async () => {
    const captured: string[] = [];
    const record = (req: { headers: Record<string, unknown> }) =>
      void (typeof req.headers['x-saypro-viewer'] === 'string' && captured.push(req.headers['x-saypro-viewer']));
    stack.listings.server.prependListener('request', record);
    try {
      dataOf(await stack.graph(UserDocument, { id: ada.id }, { token: admin.token })); // an admin's request, as an eavesdropper would see it
    } finally {
      stack.listings.server.off('request', record);
    }
    // Our own services call listings too (the CRM flusher, the email service, as the system): keep the admin's own header.
    const subjectOf = (h: string) =>
      (JSON.parse(Buffer.from(h.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string | null }).sub;
    const admins = captured.filter((h) => subjectOf(h) === admin.id);
    expect(admins).toHaveLength(1);
    const header = admins[0]!;
    const attempts: Array<[string, string]> = [
      ...(['payments', 'crm', 'email', 'seo', 'analytics'] as const).map(
        (name) => [stack.urls.subgraphs[name]!, '{ _service { sdl } }'] as [string, string],
      ),
      [stack.urls.subgraphs.listings!, `mutation { updateUser(id: "${ada.id}", input: { name: "Owned" }) { id } }`],
      [stack.urls.subgraphs.listings!, '{ users(first: 100) { nodes { id email } } }'],
      [stack.urls.subgraphs.listings!, `{ user(id: "${ada.id}") { id name email } }`],
    ];
    let refused = 0;
    for (const [url, query] of attempts) {
      const res = await callSubgraph(url, query, header);
      expect({ url, status: res.status, code: res.body.errors?.[0]?.extensions.code }).toEqual({
        url,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
      refused++;
    }
    const verify = await fetch(new URL('/internal/api-keys/verify', stack.urls.subgraphs.listings!), {
      method: 'POST',
      headers: { 'x-saypro-viewer': header },
      body: JSON.stringify({ key: `sp_test_${'A'.repeat(43)}` }),
    });
    expect(verify.status).toBe(401);
    count(
      'captured internal header replayed (other subgraphs, other operations, the API key route)',
      attempts.length + 1,
      refused + 1,
    );
    expect(dataOf(await stack.graph(UserDocument, { id: ada.id }, { token: ada.token })).user.name).not.toBe('Owned');
  });
});

describe('logs', () => {
  it('hold none of the tokens, API keys and secrets this run used', () => {
    const logs = JSON.stringify(stack.logs);
    expect(stack.logs.length).toBeGreaterThan(100);
    const leaked = secretsUsed.filter((s) => logs.includes(s));
    expect(leaked).toEqual([]);
    expect(logs).not.toMatch(/sp_test_[A-Za-z0-9_-]{43}|whsec_[0-9a-f]{16}|eyJ[A-Za-z0-9_-]+\.eyJ/);
    count('secrets searched for in the logs', secretsUsed.length, secretsUsed.length - leaked.length);
  });
});
