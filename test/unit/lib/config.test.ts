import fs from 'node:fs';
import path from 'node:path';
import {
  CONFIG_KEYS,
  ConfigError,
  GA4_EMULATOR_STREAM,
  ga4Connection,
  INDEXNOW_DEV_KEY,
  indexNowConnection,
  loadConfig,
  PAYPAL_EMULATOR_APP,
  paypalConnection,
  postingFee,
  requireSecrets,
} from '../../../lib/config';
import { projectRoot } from '../../../lib/data-dir';
import { KEY_PATTERN } from '../../../emulators/indexnow/submission';

const SECRET = 's'.repeat(32);

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the embedded-mode defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      OTEL_TRACES_SAMPLER: 'parentbased_always_on',
      OTEL_TRACES_SAMPLER_ARG: 1,
      OTEL_GATEWAY_ENGINE_SPANS: false,
      DATA_DIR: '.data',
      DATABASE_POOL_MAX: 10,
      HOST: '127.0.0.1',
      GATEWAY_PORT: 4000,
      LISTINGS_PORT: 4001,
      LISTINGS_URL: 'http://127.0.0.1:4001/graphql',
      SITE_URL: 'http://127.0.0.1:3000/listings/{id}-{slug}',
      PAYMENTS_PORT: 4002,
      PAYMENTS_URL: 'http://127.0.0.1:4002/graphql',
      CRM_PORT: 4003,
      CRM_URL: 'http://127.0.0.1:4003/graphql',
      EMAIL_PORT: 4004,
      EMAIL_URL: 'http://127.0.0.1:4004/graphql',
      SEO_PORT: 4005,
      SEO_URL: 'http://127.0.0.1:4005/graphql',
      SITEMAP_BASE_URL: 'http://127.0.0.1:4000',
      SITEMAP_SHARD_SIZE: 50_000,
      ANALYTICS_PORT: 4006,
      ANALYTICS_URL: 'http://127.0.0.1:4006/graphql',
      ANALYTICS_CONSENT_DEFAULT: 'denied',
      ANALYTICS_CONSENT_WAIT_MS: 600_000,
      ANALYTICS_SEND_INTERVAL_MS: 500,
      ANALYTICS_RETRY_BASE_DELAY_MS: 1000,
      ANALYTICS_RETRY_MAX_DELAY_MS: 300_000,
      GA4_VALIDATE: false,
      GA4_EMULATOR_PORT: 4015,
      GA4_TIMEOUT_MS: 10_000,
      INDEXNOW_EMULATOR_PORT: 4014,
      INDEXNOW_BATCH_WINDOW_MS: 2000,
      INDEXNOW_TIMEOUT_MS: 10_000,
      INDEXNOW_MAX_ATTEMPTS: 10,
      SENDGRID_EMULATOR_PORT: 4012,
      SENDGRID_TIMEOUT_MS: 10_000,
      SENDGRID_WEBHOOK_TOLERANCE_SECONDS: 600,
      EMAIL_FROM: 'SayPro <no-reply@saypro.example>',
      EMAIL_PUBLIC_URL: 'http://127.0.0.1:4000',
      EMAIL_MARKETING_DEFAULT: true,
      EMAIL_UNSUBSCRIBE_TTL_DAYS: 60,
      EMAIL_SEND_INTERVAL_MS: 500,
      EMAIL_RETRY_BASE_DELAY_MS: 1000,
      EMAIL_RETRY_MAX_DELAY_MS: 300_000,
      HUBSPOT_EMULATOR_PORT: 4011,
      HUBSPOT_TIMEOUT_MS: 10_000,
      HUBSPOT_RATE_LIMIT: 100,
      HUBSPOT_RATE_WINDOW_MS: 10_000,
      CRM_MAX_ATTEMPTS: 8,
      CRM_FLUSH_INTERVAL_MS: 1000,
      EVENT_LEASE_SECONDS: 10,
      STRIPE_EMULATOR_PORT: 4010,
      STRIPE_TIMEOUT_MS: 10_000,
      PROVIDER_RETRIES: 3,
      PROVIDER_RETRY_DELAY_MS: 200,
      PROVIDER_BREAKER_THRESHOLD: 5,
      PROVIDER_BREAKER_COOLDOWN_MS: 30_000,
      PAYMENTS_RECONCILE_INTERVAL_MS: 30_000,
      PAYPAL_EMULATOR_PORT: 4013,
      PAYPAL_TIMEOUT_MS: 10_000,
      INTERNAL_TOKEN_TTL_SECONDS: 60,
      INTERNAL_RATE_LIMIT_PER_MINUTE: 600,
      ACCOUNT_EMAIL_LIMIT_PER_HOUR: 5,
      ACCOUNT_MAIL_LIMIT_PER_RECIPIENT_PER_HOUR: 5,
      JWT_CLOCK_SKEW_SECONDS: 30,
      API_KEY_CACHE_SECONDS: 30,
      POSTING_FEE_AMOUNT: 1000,
      POSTING_FEE_CURRENCY: 'USD',
      POSTING_FEES: {},
      LISTING_TTL_DAYS: 30,
      MAX_BODY_BYTES: 1_048_576,
      METRICS_ENABLED: true,
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: 9464,
      SHUTDOWN_GRACE_MS: 10_000,
      CORS_ORIGINS: [],
      GRAPHQL_MAX_DEPTH: 10,
      GRAPHQL_MAX_COST: 10_000,
      GRAPHQL_DEFAULT_LIST_SIZE: 20,
      GRAPHQL_MAX_ALIASES: 15,
      GRAPHQL_MAX_DIRECTIVES: 50,
      GRAPHQL_MAX_TOKENS: 2000,
      GRAPHQL_MAX_BATCH: 10,
      GRAPHQL_PERSISTED_ONLY: false,
      RATE_LIMIT_PER_IP: 300,
      RATE_LIMIT_PER_VIEWER: 600,
      RATE_LIMIT_WEBHOOKS_PER_IP: 1200,
      RATE_LIMIT_HEALTH_PER_IP: 600,
      GATEWAY_ENGINE: 'apollo',
      GATEWAY_DEDUPE: true,
      SUBGRAPH_CONNECTIONS: 64,
      TRUST_PROXY_HOPS: 0,
    });
    const config = loadConfig({});
    for (const optional of [
      'DATABASE_URL',
      'JWT_SECRET',
      'JWT_ISSUER',
      'JWT_AUDIENCE',
      'JWT_JWKS_URL',
      'INTERNAL_SECRET',
      'SANDBOX',
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'STRIPE_API_URL',
      'HUBSPOT_ACCESS_TOKEN',
      'HUBSPOT_API_URL',
      'SENDGRID_API_KEY',
      'SENDGRID_API_URL',
      'SENDGRID_WEBHOOK_PUBLIC_KEY',
      'EMAIL_UNSUBSCRIBE_SECRET',
      'RATE_LIMIT_REDIS_URL',
    ] as const) {
      expect(config[optional]).toBeUndefined();
    }
  });

  it('reads and coerces set variables', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      GATEWAY_PORT: '8080',
      DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db',
      JWT_SECRET: SECRET,
      CORS_ORIGINS: ' https://a.example , ,https://b.example',
      SANDBOX: 'yes',
      POSTING_FEE_AMOUNT: '0',
    });
    expect(config).toMatchObject({
      NODE_ENV: 'production',
      GATEWAY_PORT: 8080,
      DATABASE_URL: 'postgresql://u@127.0.0.1:5432/db',
      JWT_SECRET: SECRET,
      CORS_ORIGINS: ['https://a.example', 'https://b.example'],
      SANDBOX: true,
      POSTING_FEE_AMOUNT: 0,
    });
    expect(loadConfig({ SANDBOX: 'false' }).SANDBOX).toBe(false);
    expect(loadConfig({ SANDBOX: '0' }).SANDBOX).toBe(false);
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ SOMETHING_ELSE: 'x', PATH: '/bin' })).toEqual(loadConfig({}));
  });

  it('treats empty strings as unset', () => {
    const env = Object.fromEntries(CONFIG_KEYS.map((key) => [key, '']));
    expect(loadConfig(env)).toEqual(loadConfig({}));
    // Each of these would be invalid if the empty string were parsed.
    expect(loadConfig({ GATEWAY_PORT: '', JWT_SECRET: '', POSTING_FEES: '', DATABASE_URL: '', SANDBOX: '' })).toEqual(
      loadConfig({}),
    );
  });

  it('names every bad variable in one ConfigError', () => {
    const error = configErrorOf(() =>
      loadConfig({
        GATEWAY_PORT: 'abc',
        JWT_SECRET: 'short',
        POSTING_FEES: 'notjson',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'info',
      }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe('ConfigError');
    expect(error.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'DATABASE_URL',
      'GATEWAY_PORT',
      'JWT_SECRET',
      'POSTING_FEES',
    ]);
    for (const name of ['GATEWAY_PORT', 'JWT_SECRET', 'POSTING_FEES', 'DATABASE_URL'])
      expect(error.message).toContain(`  - ${name}: `);
    expect(error.problems).toMatchInlineSnapshot(`
[
  "DATABASE_URL: must be a postgres:// or postgresql:// URL",
  "GATEWAY_PORT: Expected number, received nan",
  "JWT_SECRET: must be at least 32 characters",
  "POSTING_FEES: must be a JSON object of category → integer fee in minor units, e.g. {"JOBS":0}",
]
`);
  });

  it.each([
    ['GATEWAY_PORT', '65536'],
    ['GATEWAY_PORT', '-1'],
    ['LISTINGS_PORT', '4000.5'],
    ['NODE_ENV', 'staging'],
    ['LOG_LEVEL', 'verbose'],
    ['LISTINGS_URL', 'not a url'],
    ['SITE_URL', 'https://saypro.example/listings/{slug}'],
    ['SITE_URL', 'listings/{id}'],
    ['INTERNAL_SECRET', 'x'.repeat(31)],
    ['INTERNAL_TOKEN_TTL_SECONDS', '4'],
    ['POSTING_FEE_CURRENCY', 'usd'],
    ['POSTING_FEE_AMOUNT', '-1'],
    ['LISTING_TTL_DAYS', '0'],
    ['MAX_BODY_BYTES', '1023'],
    ['SANDBOX', 'maybe'],
  ])('refuses %s=%j', (name, value) => {
    const error = configErrorOf(() => loadConfig({ [name]: value }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
  });
});

describe('POSTING_FEES and postingFee', () => {
  it('parses a JSON object of category to integer fee', () => {
    expect(loadConfig({ POSTING_FEES: '{"JOBS":0,"VEHICLES":2500}' }).POSTING_FEES).toEqual({
      JOBS: 0,
      VEHICLES: 2500,
    });
  });

  it.each([
    'notjson',
    '[]',
    '[1,2]',
    'null',
    '42',
    '"JOBS"',
    '{"JOBS":-1}',
    '{"JOBS":1.5}',
    '{"JOBS":"0"}',
    '{"JOBS":null}',
  ])('refuses POSTING_FEES=%s', (raw) => {
    const error = configErrorOf(() => loadConfig({ POSTING_FEES: raw }));
    expect(error.problems).toEqual([expect.stringMatching(/^POSTING_FEES: must be a JSON object/)]);
  });

  it('uses the per-category override, including a zero fee, and the default otherwise', () => {
    const config = loadConfig({
      POSTING_FEE_AMOUNT: '1500',
      POSTING_FEE_CURRENCY: 'EUR',
      POSTING_FEES: '{"JOBS":0,"VEHICLES":2500}',
    });
    expect(postingFee(config, 'JOBS')).toEqual({ amount: 0, currency: 'EUR' });
    expect(postingFee(config, 'VEHICLES')).toEqual({ amount: 2500, currency: 'EUR' });
    expect(postingFee(config, 'PETS')).toEqual({ amount: 1500, currency: 'EUR' });
    expect(postingFee(loadConfig({}), 'JOBS')).toEqual({ amount: 1000, currency: 'USD' });
  });
});

describe('requireSecrets', () => {
  it('names each missing secret', () => {
    const error = configErrorOf(() => requireSecrets(loadConfig({}), ['JWT_SECRET', 'INTERNAL_SECRET']));
    expect(error.problems.map((p) => p.split(':')[0])).toEqual(['JWT_SECRET', 'INTERNAL_SECRET']);
    expect(error.problems).toMatchInlineSnapshot(`
[
  "JWT_SECRET: required when a service runs on its own (at least 32 characters)",
  "INTERNAL_SECRET: required when a service runs on its own (at least 32 characters)",
]
`);
  });

  it('names only the missing one', () => {
    const error = configErrorOf(() =>
      requireSecrets(loadConfig({ JWT_SECRET: SECRET }), ['JWT_SECRET', 'INTERNAL_SECRET']),
    );
    expect(error.problems).toEqual([expect.stringMatching(/^INTERNAL_SECRET: /)]);
  });

  it('passes when the required secrets are set', () => {
    const config = loadConfig({ JWT_SECRET: SECRET, INTERNAL_SECRET: SECRET });
    expect(() => requireSecrets(config, ['JWT_SECRET', 'INTERNAL_SECRET'])).not.toThrow();
    expect(() => requireSecrets(loadConfig({ JWT_SECRET: SECRET }), ['JWT_SECRET'])).not.toThrow();
  });
});

describe('.env.example', () => {
  const file = path.join(projectRoot(), '.env.example');
  const read = () => fs.readFileSync(file, 'utf8').split(/\r?\n/);
  const VARIABLE = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/;

  it('lists exactly the variables loadConfig reads', () => {
    const listed = new Set<string>();
    for (const line of read()) {
      const match = VARIABLE.exec(line.trim());
      if (match) listed.add(match[2]!);
    }
    expect([...listed].sort()).toEqual([...CONFIG_KEYS].sort());
  });

  it('sets each variable at most once, to a value loadConfig accepts', () => {
    const env: Record<string, string> = {};
    for (const line of read()) {
      const match = VARIABLE.exec(line.trim());
      if (!match || match[1]) continue;
      expect(env).not.toHaveProperty(match[2]!);
      env[match[2]!] = match[3]!;
    }
    expect(() => loadConfig(env)).not.toThrow();
  });
});

describe('provider keys travel over HTTPS only', () => {
  it('refuses a plain-HTTP provider URL beside a real key, and allows loopback test doubles and emulators without keys', () => {
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'sk_live_abc', STRIPE_API_URL: 'http://stripe.internal' })).toThrow(
      /STRIPE_API_URL: must be an https:\/\/ URL when STRIPE_SECRET_KEY is set/,
    );
    expect(() =>
      loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-abcdef', HUBSPOT_API_URL: 'http://10.0.0.5:4011' }),
    ).toThrow(/HUBSPOT_API_URL: must be an https:\/\/ URL/);
    expect(() =>
      loadConfig({ SENDGRID_API_KEY: 'SG.abcdefghijkl', SENDGRID_API_URL: 'http://mail.internal/' }),
    ).toThrow(/SENDGRID_API_URL: must be an https:\/\/ URL/);
    expect(
      loadConfig({ SENDGRID_API_KEY: 'SG.abcdefghijkl', SENDGRID_API_URL: 'http://127.0.0.1:4012/' }).SENDGRID_API_URL,
    ).toBe('http://127.0.0.1:4012/');
    expect(
      loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_API_URL: 'http://127.0.0.1:4010' }).STRIPE_API_URL,
    ).toBe('http://127.0.0.1:4010');
    expect(
      loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_API_URL: 'https://api.stripe.com' }).STRIPE_API_URL,
    ).toBe('https://api.stripe.com');
    expect(loadConfig({ STRIPE_API_URL: 'http://emulator:4010' }).STRIPE_API_URL).toBe('http://emulator:4010');
    expect(() =>
      loadConfig({
        PAYPAL_CLIENT_ID: 'client-id-1',
        PAYPAL_CLIENT_SECRET: 'secret-12',
        PAYPAL_API_URL: 'http://paypal.internal',
      }),
    ).toThrow(/PAYPAL_API_URL: must be an https:\/\/ URL/);
  });

  it("IndexNow: a key of the protocol's shape; api.indexnow.org with it (https only), the emulator and the dev key without", () => {
    expect(indexNowConnection(loadConfig({}))).toEqual({
      key: INDEXNOW_DEV_KEY,
      endpoint: 'http://127.0.0.1:4014/indexnow',
      emulated: true,
    });
    expect(indexNowConnection(loadConfig({ INDEXNOW_KEY: 'a1b2c3d4-0000-4000-8000-abcdef123456' }))).toEqual({
      key: 'a1b2c3d4-0000-4000-8000-abcdef123456',
      endpoint: 'https://api.indexnow.org/indexnow',
      emulated: false,
    });
    expect(() => loadConfig({ INDEXNOW_KEY: 'short' })).toThrow(/INDEXNOW_KEY: must be 8 to 128 letters/);
    expect(() => loadConfig({ INDEXNOW_KEY: 'has_underscores_in_it' })).toThrow(/INDEXNOW_KEY/);
    expect(() =>
      loadConfig({ INDEXNOW_KEY: 'abcdefgh12345678', INDEXNOW_ENDPOINT: 'http://www.bing.com/indexnow' }),
    ).toThrow(/INDEXNOW_ENDPOINT: must be an https:\/\/ URL/);
    // The dev key is public: it is never sent to a search engine.
    expect(() => loadConfig({ INDEXNOW_ENDPOINT: 'https://api.indexnow.org/indexnow' })).toThrow(
      /INDEXNOW_ENDPOINT: set INDEXNOW_KEY to submit anywhere but a local emulator/,
    );
    expect(indexNowConnection(loadConfig({ INDEXNOW_ENDPOINT: 'http://127.0.0.1:4999/indexnow' })).key).toBe(
      INDEXNOW_DEV_KEY,
    );
    expect(KEY_PATTERN.test(INDEXNOW_DEV_KEY)).toBe(true);
  });

  it('PayPal: both credentials or neither; PayPal itself with them, the emulator and its app without', () => {
    expect(() => loadConfig({ PAYPAL_CLIENT_ID: 'client-id-1' })).toThrow(
      /PAYPAL_CLIENT_SECRET: set both PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET/,
    );
    expect(paypalConnection(loadConfig({}))).toEqual({
      ...PAYPAL_EMULATOR_APP,
      apiUrl: 'http://127.0.0.1:4013',
      emulated: true,
    });
    expect(
      paypalConnection(
        loadConfig({ PAYPAL_CLIENT_ID: 'client-id-1', PAYPAL_CLIENT_SECRET: 'secret-12', PAYPAL_WEBHOOK_ID: 'WH1' }),
      ),
    ).toEqual({
      clientId: 'client-id-1',
      clientSecret: 'secret-12',
      apiUrl: 'https://api-m.paypal.com',
      webhookId: 'WH1',
      emulated: false,
    });
  });

  it('GA4: both keys or neither, https with a secret; Google with them, the emulator and its stream without', () => {
    expect(() => loadConfig({ GA4_MEASUREMENT_ID: 'G-ABC123' })).toThrow(
      /GA4_API_SECRET: set both GA4_MEASUREMENT_ID and GA4_API_SECRET/,
    );
    expect(() => loadConfig({ GA4_MEASUREMENT_ID: 'UA-1234-1', GA4_API_SECRET: 'secret-12' })).toThrow(
      /GA4_MEASUREMENT_ID: must be a GA4 measurement id/,
    );
    expect(() =>
      loadConfig({ GA4_MEASUREMENT_ID: 'G-ABC123', GA4_API_SECRET: 'secret-12', GA4_ENDPOINT: 'http://ga.internal' }),
    ).toThrow(/GA4_ENDPOINT: must be an https:\/\/ URL/);
    expect(() => loadConfig({ ANALYTICS_CONSENT_DEFAULT: 'maybe' })).toThrow(/ANALYTICS_CONSENT_DEFAULT/);
    expect(ga4Connection(loadConfig({}))).toEqual({
      ...GA4_EMULATOR_STREAM,
      endpoint: 'http://127.0.0.1:4015',
      emulated: true,
    });
    expect(ga4Connection(loadConfig({ GA4_MEASUREMENT_ID: 'G-ABC123', GA4_API_SECRET: 'secret-12' }))).toEqual({
      measurementId: 'G-ABC123',
      apiSecret: 'secret-12',
      endpoint: 'https://www.google-analytics.com',
      emulated: false,
    });
  });
});
