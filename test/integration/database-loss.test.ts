import { Client } from 'pg';
import { sql } from 'drizzle-orm';
import { isDatabaseUnavailable } from '../../lib/errors';
import { ListingsPageDocument, RegisterUserDocument } from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { registerUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { startTestStack, type TestStack } from '../helpers/stack';
import { TEST_DATABASE_URL } from '../helpers/test-db';

/**
 * What a PostgreSQL restart, a failover or a network blip does to the services, on the real server
 * (`npm run test:pg`): every connection of this file's own database is terminated, and for a while
 * the database refuses new ones. PGlite (the default run) has no connections to lose.
 */
const describeOnPostgres = TEST_DATABASE_URL ? describe : describe.skip;

let stack: TestStack;
let admin: Client;
let database: string;

/** Ends every session of this file's database, as a restart or failover would. */
const terminateAll = () =>
  admin.query(
    'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database],
  );
const refuseConnections = async (refuse: boolean) => {
  await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS ${refuse ? 'false' : 'true'}`);
  if (refuse) await terminateAll();
};
const readiness = async (service: string) => {
  const res = await fetch(new URL('/health/ready', stack.urls.subgraphs[service]!));
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
};
const SERVICES = ['listings', 'payments', 'crm', 'email', 'seo', 'analytics'];

describeOnPostgres('losing the database', () => {
  jest.setTimeout(90_000);

  beforeAll(async () => {
    stack = await startTestStack({ EMAIL_SEND_INTERVAL_MS: '100', CRM_FLUSH_INTERVAL_MS: '200' });
    database = new URL((stack.handle as { url?: string }).url!).pathname.slice(1);
    admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    if (admin) {
      await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.end();
    }
    await stack?.stop();
  });

  it('fails a transaction whose connection is terminated, without taking the process down, and the pool reconnects', async () => {
    const interrupted = stack.handle.db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
      expect((await terminateAll()).rows[0].n).toBeGreaterThan(0); // this very connection among them
      await tx.execute(sql`select 2`);
    });
    const err = await interrupted.then(
      () => new Error('the transaction committed on a terminated connection'),
      (e: unknown) => e,
    );
    expect(isDatabaseUnavailable(err)).toBe(true);
    // A pooled connection that was cut while idle can still fail the first query that takes it; then the pool has new ones.
    const answer = () =>
      stack.handle.db.execute(sql`select 42 as answer`).then(
        (r) => (r as unknown as { rows: Array<{ answer: number }> }).rows,
        (e: unknown) => (isDatabaseUnavailable(e) ? 'unavailable' : Promise.reject(e)),
      );
    expect(await eventually(answer, (r) => r !== 'unavailable', 5000)).toEqual([{ answer: 42 }]);
  });

  it('answers SERVICE_UNAVAILABLE and reports it in readiness while PostgreSQL is away, then every service and worker resumes', async () => {
    await refuseConnections(true);
    try {
      const page = await stack.graph(ListingsPageDocument, { first: 1 });
      expect(page.errors?.[0]?.extensions).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        serviceName: 'listings',
        retryAfterSeconds: 5,
      });
      expect(JSON.stringify(page.errors)).not.toMatch(/stack|terminat|accepting connections/i); // nothing of the driver reaches clients
      const refused = await stack.graph(RegisterUserDocument, {
        input: { name: 'During', email: `during.${Date.now()}@example.com` },
      });
      expect(refused.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      for (const service of SERVICES) {
        const ready = await eventually(
          () => readiness(service),
          (r) => r.status === 503,
          10_000,
        );
        expect(ready.checks).toMatchObject({ database: 'down' });
      }
    } finally {
      await refuseConnections(false);
    }
    for (const service of SERVICES) {
      expect(
        await eventually(
          () => readiness(service),
          (r) => r.status === 200,
          15_000,
        ),
      ).toMatchObject({ checks: { database: 'up', queue: 'up' } });
    }
    // Pools reconnect and pg-boss workers resume: a new user's event reaches the email consumer and its mail goes out.
    const ada = await registerUser(stack, 'Ada After');
    const mail = await eventually(
      async () => stack.sendgrid!.messages().filter((m) => m.to.some((t) => t.email === ada.email)),
      (m) => m.length === 1,
      30_000,
    );
    expect(mail[0]!.subject).toContain('Welcome');
    expect(dataOf(await stack.graph(ListingsPageDocument, { first: 1 })).listings).toBeDefined();
  });
});
