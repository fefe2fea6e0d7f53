import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts';
import { PropertyCreateFieldTypeEnum, PropertyCreateTypeEnum } from '@hubspot/api-client/lib/codegen/crm/properties';
import {
  createHubSpotEmulator,
  type HubSpotEmulator,
  type HubSpotEmulatorOptions,
} from '../../emulators/hubspot/server';

/**
 * What the SDK rejects with for an HTTP error. Each codegen module has its own ApiException class
 * (none is exported from the package root), so adapters should duck-type, not use instanceof.
 */
interface SdkApiException {
  code: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function apiErrorOf(promise: Promise<unknown>): Promise<SdkApiException> {
  const err = await rejectionOf(promise);
  expect((err as Error).constructor.name).toBe('ApiException');
  return err as SdkApiException;
}

/**
 * The SDK's retry decorators live in a process-wide singleton that each `new Client()` overwrites;
 * an API object takes them when first touched. Touch them at once so each client keeps its own.
 */
function sdk(base: string, options: { retries?: number; accessToken?: string } = {}) {
  const client = new Client({
    ...(options.accessToken === '' ? {} : { accessToken: options.accessToken ?? 'pat-emulator' }),
    basePath: base,
    numberOfApiCallRetries: options.retries ?? 0,
  });
  return { contacts: client.crm.contacts, properties: client.crm.properties.coreApi };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const emulators: HubSpotEmulator[] = [];
async function start(options: HubSpotEmulatorOptions = {}): Promise<{ emulator: HubSpotEmulator; base: string }> {
  const emulator = createHubSpotEmulator(options);
  emulators.push(emulator);
  return { emulator, base: await emulator.listen(0, '127.0.0.1') };
}

const upsertInput = (email: string, properties: Record<string, string> = {}) => ({
  id: email,
  idProperty: 'email',
  properties,
});

let hs: HubSpotEmulator;
let base: string;
let api: ReturnType<typeof sdk>;

beforeAll(async () => {
  // Generous limits here; the limiter and search lag have instances of their own below.
  ({ emulator: hs, base } = await start({ rateLimit: 10_000, searchRateLimit: 1000 }));
  api = sdk(base);
});

beforeEach(() => hs.reset());

afterAll(async () => {
  await Promise.all(emulators.map((e) => e.close()));
});

describe('contacts', () => {
  it('creates a contact with a numeric id, a lowercased email and the properties HubSpot adds', async () => {
    const created = await api.contacts.basicApi.create({
      properties: { email: 'Ada@Example.com', firstname: 'Ada' },
      associations: [],
    });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.properties).toEqual({
      email: 'ada@example.com',
      firstname: 'Ada',
      hs_object_id: created.id,
      createdate: expect.any(String),
      lastmodifieddate: expect.any(String),
    });
    // The SDK turns timestamps into Dates.
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(hs.contacts()).toEqual([expect.objectContaining({ id: created.id, archived: false })]);
  });

  it('gets a contact by id and by email, with the requested properties (null when unset)', async () => {
    const { id } = await api.contacts.basicApi.create({
      properties: { email: 'grace@example.com', firstname: 'Grace', company: 'Navy' },
      associations: [],
    });

    const byId = await api.contacts.basicApi.getById(id);
    expect(byId.properties).toEqual({
      createdate: expect.any(String),
      email: 'grace@example.com',
      firstname: 'Grace',
      hs_object_id: id,
      lastmodifieddate: expect.any(String),
      lastname: null,
    });

    const byEmail = await api.contacts.basicApi.getById(
      'GRACE@example.com',
      ['company', 'phone', 'no_such_property'],
      undefined,
      undefined,
      false,
      'email',
    );
    expect(byEmail.id).toBe(id);
    expect(byEmail.properties).toEqual({
      company: 'Navy',
      phone: null,
      hs_object_id: id,
      createdate: expect.any(String),
      lastmodifieddate: expect.any(String),
    });
  });

  it('answers 404 OBJECT_NOT_FOUND for an unknown id or email', async () => {
    const err = await apiErrorOf(
      api.contacts.basicApi.getById('nobody@example.com', undefined, undefined, undefined, false, 'email'),
    );
    expect(err.code).toBe(404);
    expect(err.body).toMatchObject({
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message: 'Object not found.  objectId are usually numeric.',
    });
    expect((await apiErrorOf(api.contacts.basicApi.getById('999999'))).code).toBe(404);
  });

  it('refuses a second contact with the same email: ApiException 409 naming the existing id', async () => {
    const { id } = await api.contacts.basicApi.create({ properties: { email: 'ada@example.com' }, associations: [] });
    const err = await apiErrorOf(
      api.contacts.basicApi.create({ properties: { email: 'ADA@example.com' }, associations: [] }),
    );
    expect(err.code).toBe(409);
    expect(err.body).toEqual({
      status: 'error',
      message: `Contact already exists. Existing ID: ${id}`,
      category: 'CONFLICT',
      correlationId: expect.any(String),
    });
    // The message is the only place the existing id appears.
    expect(/Existing ID: (\d+)/.exec(String(err.body.message))?.[1]).toBe(id);
  });

  it('updates a contact by id and by email', async () => {
    const { id, properties } = await api.contacts.basicApi.create({
      properties: { email: 'ada@example.com' },
      associations: [],
    });
    await sleep(5);
    const updated = await api.contacts.basicApi.update(id, { properties: { lastname: 'Lovelace' } });
    expect(updated.properties.lastname).toBe('Lovelace');
    expect(updated.properties.lastmodifieddate).not.toBe(properties.lastmodifieddate);
    const byEmail = await api.contacts.basicApi.update(
      'ada@example.com',
      { properties: { firstname: 'Ada' } },
      'email',
    );
    expect(byEmail.properties).toMatchObject({ firstname: 'Ada', lastname: 'Lovelace' });
  });

  it('refuses unknown properties with 400 VALIDATION_ERROR until the property is created', async () => {
    const err = await apiErrorOf(
      api.contacts.basicApi.create({
        properties: { email: 'ada@example.com', saypro_user_id: 'u_1' },
        associations: [],
      }),
    );
    expect(err.code).toBe(400);
    expect(err.body.category).toBe('VALIDATION_ERROR');
    expect(String(err.body.message)).toMatch(
      /^Property values were not valid: \[.*"error":"PROPERTY_DOESNT_EXIST","name":"saypro_user_id"/,
    );
    expect(err.body.errors).toEqual([
      {
        message: 'Property "saypro_user_id" does not exist',
        code: 'PROPERTY_DOESNT_EXIST',
        context: { propertyName: ['saypro_user_id'] },
      },
    ]);

    await api.properties.create('contacts', {
      name: 'saypro_user_id',
      label: 'SayPro user id',
      type: PropertyCreateTypeEnum.String,
      fieldType: PropertyCreateFieldTypeEnum.Text,
      groupName: 'contactinformation',
      hasUniqueValue: true,
    });
    const created = await api.contacts.basicApi.create({
      properties: { email: 'ada@example.com', saypro_user_id: 'u_1' },
      associations: [],
    });
    expect(created.properties.saypro_user_id).toBe('u_1');
    // A unique property works as idProperty.
    expect(
      (await api.contacts.basicApi.getById('u_1', undefined, undefined, undefined, false, 'saypro_user_id')).id,
    ).toBe(created.id);
  });

  it('checks values against the property type and refuses read-only properties', async () => {
    await api.properties.create('contacts', {
      name: 'saypro_listing_count',
      label: 'Listings',
      type: PropertyCreateTypeEnum.Number,
      fieldType: PropertyCreateFieldTypeEnum.Number,
      groupName: 'contactinformation',
    });
    const bad = await apiErrorOf(
      api.contacts.basicApi.create({
        properties: { email: 'ada@example.com', saypro_listing_count: 'three' },
        associations: [],
      }),
    );
    expect(bad.code).toBe(400);
    expect(String(bad.body.message)).toContain('INVALID_NUMBER');
    const readOnly = await apiErrorOf(
      api.contacts.basicApi.create({ properties: { email: 'ada@example.com', hs_object_id: '1' }, associations: [] }),
    );
    expect(String(readOnly.body.message)).toContain('READ_ONLY_VALUE');
    const ok = await api.contacts.basicApi.create({
      properties: { email: 'ada@example.com', saypro_listing_count: '3' },
      associations: [],
    });
    expect(ok.properties.saypro_listing_count).toBe('3');
  });
});

describe('batch', () => {
  it('upserts by email: results say which were new (the SDK renames `new` to `_new`)', async () => {
    const existing = await api.contacts.basicApi.create({
      properties: { email: 'ada@example.com', firstname: 'Ada' },
      associations: [],
    });
    const result = await api.contacts.batchApi.upsert({
      inputs: [
        upsertInput('ADA@example.com', { lastname: 'Lovelace' }),
        upsertInput('grace@example.com', { firstname: 'Grace' }),
      ],
    });
    expect(result.status).toBe('COMPLETE');
    expect('errors' in result).toBe(false);
    const byEmail = Object.fromEntries(result.results.map((r) => [r.properties.email, r]));
    expect(byEmail['ada@example.com']).toMatchObject({
      id: existing.id,
      _new: false,
      properties: { firstname: 'Ada', lastname: 'Lovelace' },
    });
    expect(byEmail['grace@example.com']).toMatchObject({ _new: true, properties: { firstname: 'Grace' } });
    expect(hs.contacts()).toHaveLength(2);
    expect(hs.requests().at(-1)).toMatchObject({
      path: '/crm/v3/objects/contacts/batch/upsert',
      status: 200,
      batchSize: 2,
    });

    // On the wire the field is `new`, as HubSpot sends it.
    const raw = await fetch(`${base}/crm/v3/objects/contacts/batch/upsert`, {
      method: 'POST',
      headers: { authorization: 'Bearer pat-emulator', 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [upsertInput('grace@example.com')] }),
    });
    expect(((await raw.json()) as { results: Array<Record<string, unknown>> }).results[0]).toMatchObject({
      new: false,
    });
  });

  it('refuses more than 100 inputs with 400 VALIDATION_ERROR, and duplicate ids in one batch', async () => {
    const inputs = Array.from({ length: 101 }, (_, i) => upsertInput(`user${i}@example.com`));
    const err = await apiErrorOf(api.contacts.batchApi.upsert({ inputs }));
    expect(err.code).toBe(400);
    expect(err.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(hs.contacts()).toHaveLength(0);
    await expect(api.contacts.batchApi.upsert({ inputs: inputs.slice(0, 100) })).resolves.toMatchObject({
      status: 'COMPLETE',
    });

    const dup = await apiErrorOf(
      api.contacts.batchApi.upsert({ inputs: [upsertInput('a@example.com'), upsertInput('A@example.com')] }),
    );
    expect(dup.code).toBe(400);
    expect(String(dup.body.message)).toContain('Duplicate IDs');
  });

  it('partial_batch: a 207 the SDK resolves with (no throw), failed inputs under errors[]', async () => {
    hs.setFaults([{ kind: 'partial_batch', failEmails: ['grace@example.com'], times: 1 }]);
    const result = await api.contacts.batchApi.upsert({
      inputs: [upsertInput('ada@example.com'), upsertInput('grace@example.com')],
    });
    expect(hs.requests().at(-1)?.status).toBe(207);
    // Nothing on the resolved value says 207 except errors/numErrors being present.
    expect(result.status).toBe('COMPLETE');
    expect(result.results.map((r) => r.properties.email)).toEqual(['ada@example.com']);
    expect('numErrors' in result && result.numErrors).toBe(1);
    const errors = 'errors' in result ? result.errors : [];
    expect(errors).toEqual([
      expect.objectContaining({
        status: 'error',
        category: 'VALIDATION_ERROR',
        context: { ids: ['grace@example.com'] },
      }),
    ]);
    expect(hs.contacts().map((c) => c.properties.email)).toEqual(['ada@example.com']);

    // times: 1 is spent; the retry of the failed input goes through.
    const retry = await api.contacts.batchApi.upsert({ inputs: [upsertInput('grace@example.com')] });
    expect(retry.results[0]).toMatchObject({ _new: true });
  });

  it('an invalid email fails only its own input (207)', async () => {
    const result = await api.contacts.batchApi.upsert({
      inputs: [upsertInput('ada@example.com'), upsertInput('not-an-email')],
    });
    expect(result.results).toHaveLength(1);
    const errors = ('errors' in result ? result.errors : undefined) ?? [];
    expect(errors[0]).toMatchObject({ category: 'VALIDATION_ERROR', context: { ids: ['not-an-email'] } });
    expect(errors[0]?.message).toContain('INVALID_EMAIL');
  });

  it('batch read: found contacts in results, missing ids in one OBJECT_NOT_FOUND error (207, resolved)', async () => {
    const ada = await api.contacts.basicApi.create({
      properties: { email: 'ada@example.com', firstname: 'Ada' },
      associations: [],
    });
    const result = await api.contacts.batchApi.read({
      inputs: [{ id: ada.id }, { id: '424242' }],
      properties: ['firstname'],
      propertiesWithHistory: [],
    });
    expect(hs.requests().at(-1)).toMatchObject({ status: 207, batchSize: 2 });
    expect(result.results).toEqual([
      expect.objectContaining({ id: ada.id, properties: expect.objectContaining({ firstname: 'Ada' }) }),
    ]);
    expect('errors' in result && result.errors).toEqual([
      expect.objectContaining({ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: ['424242'] } }),
    ]);

    const byEmail = await api.contacts.batchApi.read({
      idProperty: 'email',
      inputs: [{ id: 'ada@example.com' }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(byEmail.results.map((r) => r.id)).toEqual([ada.id]);
    expect('errors' in byEmail).toBe(false);
  });

  it('batch create is all or nothing: one existing email refuses the batch with 409', async () => {
    const created = await api.contacts.batchApi.create({
      inputs: [{ properties: { email: 'ada@example.com' }, associations: [] }],
    });
    expect(created.results).toHaveLength(1);
    const err = await apiErrorOf(
      api.contacts.batchApi.create({
        inputs: [
          { properties: { email: 'new@example.com' }, associations: [] },
          { properties: { email: 'ada@example.com' }, associations: [] },
        ],
      }),
    );
    expect(err.code).toBe(409);
    expect(hs.contacts()).toHaveLength(1);
  });
});

describe('search', () => {
  const byEmail = (email: string) => ({
    filterGroups: [{ filters: [{ propertyName: 'email', operator: FilterOperatorEnum.Eq, value: email }] }],
    properties: ['email', 'firstname'],
    limit: 10,
    after: '0',
    sorts: [],
  });

  it('finds by EQ on any property, ORs filter groups and pages with after', async () => {
    await api.properties.create('contacts', {
      name: 'saypro_user_id',
      label: 'SayPro user id',
      type: PropertyCreateTypeEnum.String,
      fieldType: PropertyCreateFieldTypeEnum.Text,
      groupName: 'contactinformation',
    });
    for (const [email, user] of [
      ['a@example.com', 'u_1'],
      ['b@example.com', 'u_2'],
      ['c@example.com', 'u_3'],
    ]) {
      await api.contacts.basicApi.create({ properties: { email: email!, saypro_user_id: user! }, associations: [] });
    }
    const one = await api.contacts.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'saypro_user_id', operator: FilterOperatorEnum.Eq, value: 'u_2' }] }],
      properties: ['saypro_user_id'],
      limit: 10,
    });
    expect(one.total).toBe(1);
    expect(one.results[0]?.properties).toMatchObject({ saypro_user_id: 'u_2', hs_object_id: expect.any(String) });
    expect(one.paging).toBeUndefined();

    const either = await api.contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: FilterOperatorEnum.Eq, value: 'A@EXAMPLE.COM' }] },
        { filters: [{ propertyName: 'saypro_user_id', operator: FilterOperatorEnum.In, values: ['u_3'] }] },
      ],
      limit: 10,
    });
    expect(either.results.map((r) => r.properties.email)).toEqual(['a@example.com', 'c@example.com']);

    const page1 = await api.contacts.searchApi.doSearch({ filterGroups: [], limit: 2 });
    expect(page1).toMatchObject({ total: 3, paging: { next: { after: '2' } } });
    const page2 = await api.contacts.searchApi.doSearch({
      filterGroups: [],
      limit: 2,
      after: page1.paging!.next!.after,
    });
    expect(page2.results).toHaveLength(1);
    expect(page2.paging).toBeUndefined();
  });

  it('shows a write only after searchLagMs: new contacts late, updated ones in their old version meanwhile', async () => {
    const { base: laggy } = await start({ searchLagMs: 300, searchRateLimit: 100 });
    const client = sdk(laggy);
    const { id } = await client.contacts.basicApi.create({
      properties: { email: 'late@example.com', firstname: 'Late' },
      associations: [],
    });
    expect((await client.contacts.searchApi.doSearch(byEmail('late@example.com'))).total).toBe(0);
    expect((await client.contacts.basicApi.getById(id)).id).toBe(id);

    const poll = async (
      email: string,
      until: (r: Awaited<ReturnType<typeof client.contacts.searchApi.doSearch>>) => boolean,
    ) => {
      for (let attempt = 0; attempt < 40; attempt++) {
        await sleep(100);
        const result = await client.contacts.searchApi.doSearch(byEmail(email));
        if (until(result)) return result;
      }
      throw new Error('search never caught up');
    };
    const found = await poll('late@example.com', (r) => r.total === 1);
    expect(found.results[0]?.properties).toMatchObject({ email: 'late@example.com', firstname: 'Late' });

    await client.contacts.basicApi.update(id, { properties: { firstname: 'Later' } });
    expect(
      (await client.contacts.searchApi.doSearch(byEmail('late@example.com'))).results[0]?.properties.firstname,
    ).toBe('Late');
    await poll('late@example.com', (r) => r.results[0]?.properties.firstname === 'Later');
  });

  it('has its own limit of 4 per second: 429 SECONDLY with the message the SDK retries on', async () => {
    const { emulator, base: limited } = await start();
    const client = sdk(limited);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => client.contacts.searchApi.doSearch(byEmail('x@example.com'))),
    );
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected).toHaveLength(1);
    const err = rejected[0]!.reason as SdkApiException;
    expect(err.code).toBe(429);
    expect(err.body).toMatchObject({
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'SECONDLY',
    });
    expect(emulator.rateLimited()).toBe(1);
  });
});

describe('properties API', () => {
  it('creates, gets and lists a property; a duplicate is 409 and a missing one 404', async () => {
    const input = {
      name: 'saypro_user_id',
      label: 'SayPro user id',
      type: PropertyCreateTypeEnum.String,
      fieldType: PropertyCreateFieldTypeEnum.Text,
      groupName: 'contactinformation',
    };
    const created = await api.properties.create('contacts', input);
    expect(created).toMatchObject({ ...input, hasUniqueValue: false, archived: false });
    expect((await api.properties.getByName('contacts', 'saypro_user_id')).label).toBe('SayPro user id');
    const all = await api.properties.getAll('contacts');
    expect(all.results.map((p) => p.name)).toEqual(
      expect.arrayContaining(['email', 'firstname', 'hs_object_id', 'saypro_user_id']),
    );
    expect(hs.properties()).toContainEqual({
      name: 'saypro_user_id',
      label: 'SayPro user id',
      type: 'string',
      fieldType: 'text',
      groupName: 'contactinformation',
    });

    const dup = await apiErrorOf(api.properties.create('contacts', input));
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({ status: 'error', message: "Property named 'saypro_user_id' already exists." });

    const missing = await apiErrorOf(api.properties.getByName('contacts', 'saypro_listing_count'));
    expect(missing.code).toBe(404);
    expect(missing.body.category).toBe('OBJECT_NOT_FOUND');
  });
});

describe('rate limiting', () => {
  it('rolling window: with 5 per second the 6th request is 429 TEN_SECONDLY_ROLLING, with the headers', async () => {
    const { emulator, base: limited } = await start({ rateLimit: 5, rateWindowMs: 1000 });
    const client = sdk(limited);
    for (let i = 0; i < 5; i++) await client.contacts.basicApi.getPage(1);
    const err = await apiErrorOf(client.contacts.basicApi.getPage(1));
    expect(err.code).toBe(429);
    // The SDK passes the error body through whole: policyName is what its retry decorator reads.
    expect(err.body).toEqual({
      status: 'error',
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      correlationId: expect.any(String),
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: expect.any(String),
    });
    expect(err.headers).toMatchObject({
      'x-hubspot-ratelimit-max': '5',
      'x-hubspot-ratelimit-remaining': '0',
      'x-hubspot-ratelimit-interval-milliseconds': '1000',
      'x-hubspot-ratelimit-daily': expect.any(String),
      'x-hubspot-ratelimit-daily-remaining': expect.any(String),
    });
    expect(emulator.rateLimited()).toBe(1);

    // Admin routes are neither limited nor counted.
    expect((await fetch(`${limited}/__emulator/state`)).status).toBe(200);

    await sleep(1050);
    await expect(client.contacts.basicApi.getPage(1)).resolves.toBeDefined();
    const ok = await fetch(`${limited}/crm/v3/objects/contacts?limit=1`, {
      headers: { authorization: 'Bearer pat-emulator' },
    });
    expect(ok.headers.get('x-hubspot-ratelimit-remaining')).toBe('3');
  });

  it('forced rate_limit fault: 429 TEN_SECONDLY_ROLLING on the matching path only, `times` times', async () => {
    hs.setFaults([{ kind: 'rate_limit', times: 1, path: '/crm/v3/objects/contacts/batch' }]);
    await expect(api.contacts.basicApi.getPage(1)).resolves.toBeDefined();
    const err = await apiErrorOf(api.contacts.batchApi.upsert({ inputs: [upsertInput('ada@example.com')] }));
    expect(err.code).toBe(429);
    expect(err.body.policyName).toBe('TEN_SECONDLY_ROLLING');
    expect(hs.rateLimited()).toBe(1);
    await expect(api.contacts.batchApi.upsert({ inputs: [upsertInput('ada@example.com')] })).resolves.toMatchObject({
      status: 'COMPLETE',
    });
  });
});

describe('faults', () => {
  it('server_error answers the status `times` times, then normally', async () => {
    hs.setFaults([{ kind: 'server_error', status: 502, times: 2 }]);
    for (let i = 0; i < 2; i++) {
      const err = await apiErrorOf(api.contacts.basicApi.getPage(1));
      expect(err.code).toBe(502);
      expect(err.body).toMatchObject({ status: 'error', correlationId: expect.any(String) });
    }
    await expect(api.contacts.basicApi.getPage(1)).resolves.toBeDefined();
  });

  it('numberOfApiCallRetries counts attempts: 2 retries a 5xx once after 200 ms (and logs with console.error)', async () => {
    const retrying = sdk(base, { retries: 2 });
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      hs.setFaults([{ kind: 'server_error', times: 1 }]);
      await expect(retrying.contacts.basicApi.getPage(1)).resolves.toBeDefined();
      expect(hs.requests().map((r) => r.status)).toEqual([500, 200]);
      expect(consoleError).toHaveBeenCalledWith(
        expect.stringContaining('Request failed with status code [500], will retry'),
      );

      // 1 means one attempt: no retry at all.
      hs.reset();
      hs.setFaults([{ kind: 'server_error', times: 1 }]);
      expect((await apiErrorOf(sdk(base, { retries: 1 }).contacts.basicApi.getPage(1))).code).toBe(500);
    } finally {
      consoleError.mockRestore();
    }
  });

  it('the retry setting is process-global: an API object takes that of the last Client built before its first use', async () => {
    const first = new Client({ accessToken: 'pat-emulator', basePath: base, numberOfApiCallRetries: 3 });
    sdk(base, { retries: 0 });
    hs.setFaults([{ kind: 'server_error', times: 1 }]);
    // `first` asked for 3 attempts, but its contacts API was built after the 0-retry client.
    expect((await apiErrorOf(first.crm.contacts.basicApi.getPage(1))).code).toBe(500);
  });

  it('hang holds the request for ms, then answers normally (the SDK has no timeout of its own)', async () => {
    hs.setFaults([{ kind: 'hang', ms: 300, times: 1 }]);
    const pending = api.contacts.basicApi.getPage(1);
    const first = await Promise.race([pending.then(() => 'answered'), sleep(100).then(() => 'still waiting')]);
    expect(first).toBe('still waiting');
    await expect(pending).resolves.toBeDefined();
  });

  it('outage answers 503 to every API request for ms; admin routes keep working', async () => {
    hs.setFaults([{ kind: 'outage', ms: 300 }]);
    const err = await apiErrorOf(api.contacts.basicApi.getPage(1));
    expect(err.code).toBe(503);
    expect((await apiErrorOf(api.properties.getAll('contacts'))).code).toBe(503);
    expect((await fetch(`${base}/__emulator/state`)).status).toBe(200);
    let recovered = false;
    for (let attempt = 0; attempt < 20 && !recovered; attempt++) {
      await sleep(100);
      recovered = await api.contacts.basicApi.getPage(1).then(
        () => true,
        () => false,
      );
    }
    expect(recovered).toBe(true);
  });
});

describe('auth and routing', () => {
  it('401 INVALID_AUTHENTICATION without a bearer token, or with one not in accessTokens', async () => {
    const anonymous = sdk(base, { accessToken: '' });
    const err = await apiErrorOf(anonymous.contacts.basicApi.getPage(1));
    expect(err.code).toBe(401);
    expect(err.body).toMatchObject({
      status: 'error',
      category: 'INVALID_AUTHENTICATION',
      message: expect.stringMatching(/^Authentication credentials not found/),
    });

    const { base: strict } = await start({ accessTokens: ['pat-right'] });
    expect((await apiErrorOf(sdk(strict, { accessToken: 'pat-wrong' }).contacts.basicApi.getPage(1))).code).toBe(401);
    await expect(sdk(strict, { accessToken: 'pat-right' }).contacts.basicApi.getPage(1)).resolves.toBeDefined();
  });

  it('basePath must not end with a slash: the SDK would send //crm/…, answered 404 with a hint', async () => {
    const err = await apiErrorOf(sdk(`${base}/`).contacts.basicApi.getPage(1));
    expect(err.code).toBe(404);
    expect(String(err.body.message)).toContain('basePath without a trailing slash');
  });
});

describe('emulator control over HTTP', () => {
  it('sets and clears faults, resets, and shows contacts escaped on the page', async () => {
    const set = await fetch(`${base}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ faults: [{ kind: 'server_error', status: 503, times: 1 }] }),
    });
    expect(set.status).toBe(200);
    expect((await apiErrorOf(api.contacts.basicApi.getPage(1))).code).toBe(503);

    const invalid = await fetch(`${base}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ faults: [{ kind: 'meteor' }] }),
    });
    expect(invalid.status).toBe(400);

    hs.setFaults([{ kind: 'rate_limit' }]);
    expect((await fetch(`${base}/__emulator/faults`, { method: 'DELETE' })).status).toBe(200);
    await api.contacts.basicApi.create({
      properties: { email: 'x@example.com', firstname: '<script>alert(1)</script>' },
      associations: [],
    });

    const page = await fetch(`${base}/__emulator`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');

    const state = (await (await fetch(`${base}/__emulator/state`)).json()) as {
      contacts: unknown[];
      requests: unknown[];
    };
    expect(state.contacts).toHaveLength(1);
    expect((await fetch(`${base}/__emulator/reset`, { method: 'POST' })).status).toBe(200);
    expect(hs.contacts()).toHaveLength(0);
    expect(hs.requests()).toHaveLength(0);
  });
});
