import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSchema, isInputObjectType, parse, visit, type GraphQLSchema } from 'graphql';
import { HttpError } from '../../../lib/http';
import { projectRoot } from '../../../lib/data-dir';
import { openApiDocument, openApiJson } from '../../../gateway/rest/openapi';
import { REST_OPERATIONS } from '../../../gateway/rest/routes';
import { parseRequest } from '../../../gateway/rest/rest-schema';

/**
 * schema/openapi.json (issue 14): what the route definitions generate, a valid OpenAPI 3.1
 * document by a maintained validator, and in REST names throughout.
 */
const root = projectRoot();
const api: GraphQLSchema = buildSchema(fs.readFileSync(path.join(root, 'schema/api.graphql'), 'utf8'));
const checkedIn = fs.readFileSync(path.join(root, 'schema/openapi.json'), 'utf8');

/** @seriousme/openapi-schema-validator is ESM only: it runs in a child Node, as its CLI does. */
function validate(file: string): { valid: boolean; errors?: unknown } {
  const script =
    "import { Validator } from '@seriousme/openapi-schema-validator'; const v = new Validator(); const r = await v.validate(process.argv[1]); console.log(JSON.stringify({ valid: r.valid, version: v.version, errors: r.errors }));";
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script, file], { cwd: root, encoding: 'utf8' }),
  ) as { valid: boolean; errors?: unknown };
}

describe('schema/openapi.json', () => {
  it('is what the route definitions generate, one path per REST route', () => {
    expect(checkedIn).toBe(openApiJson(api));
    const doc = JSON.parse(checkedIn);
    expect(Object.keys(doc.paths).sort()).toEqual(Object.keys(REST_OPERATIONS).sort());
    for (const [route, operation] of Object.entries(REST_OPERATIONS))
      expect(Object.keys(doc.paths[route])).toEqual([operation.method.toLowerCase()]);
  });

  it('is valid OpenAPI 3.1 to @seriousme/openapi-schema-validator, which refuses a broken copy', () => {
    const result = validate(path.join(root, 'schema/openapi.json'));
    expect(result).toMatchObject({ valid: true, version: '3.1' });
    const broken = JSON.parse(checkedIn);
    delete broken.paths['/payments/charge'].post.responses;
    broken.paths['/crm/user-data'].get.parameters[0].in = 'body';
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-')), 'broken.json');
    fs.writeFileSync(file, JSON.stringify(broken));
    expect(validate(file).valid).toBe(false);
  });

  it('names every field, parameter and error field by its REST name, never the GraphQL one', () => {
    const doc = openApiDocument(api);
    // The GraphQL names the routes' operations use: their variables and the fields of their input types.
    const graphNames = new Set<string>();
    for (const operation of Object.values(REST_OPERATIONS)) {
      visit(parse(operation.document), {
        VariableDefinition: (node) => {
          graphNames.add(node.variable.name.value);
          const typeName = JSON.stringify(node.type).match(/"value":"(\w+)"/)![1]!;
          const type = api.getType(typeName);
          if (isInputObjectType(type)) for (const field of Object.keys(type.getFields())) graphNames.add(field);
        },
      });
    }
    expect([...graphNames]).toEqual(
      expect.arrayContaining(['listingId', 'paymentMethodId', 'idempotencyKey', 'userId']),
    );

    const names: string[] = [];
    const collect = (schema: any): void => {
      if (!schema || typeof schema !== 'object') return;
      if (schema.properties) names.push(...Object.keys(schema.properties));
      for (const value of Object.values(schema)) collect(value);
    };
    collect(doc.components.schemas);
    const fieldPatterns: RegExp[] = [];
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item) as any[]) {
        for (const p of op.parameters) if (p.in === 'query') names.push(p.name);
        collect(op.requestBody?.content['application/json'].schema);
        const field = op.responses[400].content['application/json'].schema.properties.error.properties.field;
        fieldPatterns.push(new RegExp(field.pattern));
      }
    }
    // `stats` keeps the graph's one-word counters; everything else is snake_case, and none is a GraphQL name.
    expect(names.filter((name) => !/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(name))).toEqual([]);
    expect(names.filter((name) => graphNames.has(name) && name !== name.toLowerCase())).toEqual([]);
    expect(names).toEqual(
      expect.arrayContaining(['listing_id', 'payment_method_id', 'transaction_id', 'campaign_id', 'user_id']),
    );
    // An error's `field` is documented as one of the request's REST names (or a path below one).
    const charge = fieldPatterns[Object.keys(REST_OPERATIONS).indexOf('/payments/charge')]!;
    expect(['listing_id', 'payment_method_id', 'amount'].every((f) => charge.test(f))).toBe(true);
    expect(['listingId', 'paymentMethodId', 'input.listingId'].some((f) => charge.test(f))).toBe(false);
  });

  it('lists the enum values the facade passes through, spelled as it answers them', () => {
    const doc = openApiDocument(api);
    const chargeResponse = doc.components.schemas.PaymentsChargeResponse;
    expect(chargeResponse.properties.status.enum).toEqual(['declined', 'processing', 'requires_action', 'success']);
    expect(chargeResponse.properties.payment_status.enum).toContain('completed');
    expect(chargeResponse.properties.payment_status.enum).not.toContain('succeeded');
    const template = doc.paths['/email/send']!.post.requestBody.content['application/json'].schema.properties.template;
    expect(template.enum).toEqual(expect.arrayContaining(['promotion', 'welcome']));
    expect(JSON.stringify(doc)).not.toContain('x-graphql-enum');
  });

  it('documents who may call: a bearer token always, an API key only with the scope its permission names', () => {
    const doc = openApiDocument(api);
    expect(doc.paths['/payments/charge']!.post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/payments/transaction-status']!.get.security).toEqual([
      { bearerAuth: [] },
      { apiKey: ['payments:read'] },
    ]);
    expect(doc.paths['/email/send']!.post.security).toEqual([{ bearerAuth: [] }, { apiKey: ['email:send'] }]);
    expect(doc.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer' },
      apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
  });
});

describe('REST request validation, from the same schemas', () => {
  const charge = REST_OPERATIONS['/payments/charge']!.request;
  const send = REST_OPERATIONS['/email/send']!.request;
  const refusal = (schema: typeof charge, input: unknown) => {
    try {
      parseRequest(schema, input);
    } catch (err) {
      if (err instanceof HttpError)
        return { status: err.status, code: err.code, field: err.field, message: err.message };
      throw err;
    }
    return 'accepted';
  };
  const ok = { listing_id: 'l1', payment_method_id: 'pm_card_visa' };

  it.each([
    [charge, { payment_method_id: 'pm_card_visa' }, 'listing_id', 'listing_id is required'],
    [charge, { ...ok, listing_id: '   ' }, 'listing_id', 'listing_id is required'],
    [charge, { ...ok, listing_id: 7 }, 'listing_id', 'listing_id must be a string'],
    [charge, { ...ok, amount: 10.5 }, 'amount', 'amount must be an integer (minor units)'],
    [charge, { ...ok, currency: 5 }, 'currency', 'currency must be a string'],
    [send, { template: 'welcome', data: [] }, 'data', 'data must be an object'],
    [send, { template: '' }, 'template', 'template is required'],
  ])('refuses %#: 400 BAD_USER_INPUT naming the REST field', (schema, input, field, message) => {
    expect(refusal(schema, input)).toEqual({ status: 400, code: 'BAD_USER_INPUT', field, message });
  });

  it('accepts what the seed sends, unknown fields and nulls for the optional checks included', () => {
    expect(refusal(charge, { ...ok, description: 'Classified Listing Payment', amount: null, currency: null })).toBe(
      'accepted',
    );
    expect(parseRequest(charge, { ...ok, listing_id: ' l1 ' }).listing_id).toBe('l1');
  });
});
