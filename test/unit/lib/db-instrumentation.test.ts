import { sql } from 'drizzle-orm';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createDatabase, type DatabaseHandle } from '../../../lib/db';
import { registry } from '../../../lib/metrics';
import { startTracing, traceOperation, type Tracing } from '../../../lib/tracing';
import { createScratchPostgres, TEST_DATABASE_URL } from '../../helpers/test-db';

/** Statements counted in db_client_operation_duration_seconds for a service and verb. */
async function counted(service: string, operation: string): Promise<number> {
  const metric = await registry.getSingleMetric('db_client_operation_duration_seconds')!.get();
  return (
    metric.values.find(
      (v) =>
        (v as { metricName?: string }).metricName?.endsWith('_count') &&
        v.labels.service === service &&
        v.labels.db_operation_name === operation,
    )?.value ?? 0
  );
}

// Both drivers, through the one wrapper in lib/db.ts: PGlite always, PostgreSQL when the run has one.
const drivers: Array<[string, () => Promise<{ handle: DatabaseHandle; drop?: () => Promise<void> }>]> = [
  ['PGlite', async () => ({ handle: await createDatabase({}) })],
];
if (TEST_DATABASE_URL) {
  drivers.push([
    'PostgreSQL',
    async () => {
      const scratch = await createScratchPostgres();
      return { handle: await createDatabase({ url: scratch.url, poolMax: 2 }), drop: scratch.drop };
    },
  ]);
}

describe.each(drivers)('SQL instrumentation on %s', (_name, open) => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let handle: DatabaseHandle;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    tracing = startTracing({ service: 'test', exporter })!;
    ({ handle, drop } = await open());
    await handle.db.execute(sql`create schema if not exists listings`);
    await handle.db.execute(sql`create table if not exists listings.probe (id int primary key)`);
  });
  afterAll(async () => {
    await handle.close();
    await drop?.();
    await tracing.shutdown();
  });
  beforeEach(() => exporter.reset());

  it('times every statement once, outside and inside transactions, by schema and verb', async () => {
    const selects = await counted('listings', 'select');
    const inserts = await counted('listings', 'insert');
    await handle.db.execute(sql`select count(*) from "listings".probe`);
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`insert into "listings".probe (id) values (${Math.floor(Math.random() * 1e9)})`);
      await tx.execute(sql`select id from "listings".probe limit 1`);
    });
    expect({
      selects: (await counted('listings', 'select')) - selects,
      inserts: (await counted('listings', 'insert')) - inserts,
    }).toEqual({ selects: 2, inserts: 1 });
  });

  it('gives each statement a span inside a traced operation, and none outside one', async () => {
    await handle.db.execute(sql`select 1 from "listings".probe limit 1`);
    expect(exporter.getFinishedSpans()).toEqual([]);
    await traceOperation({ type: 'query', name: 'Probe' }, async () => {
      await handle.db.execute(sql`select 1 from "listings".probe limit 1`);
      await expect(handle.db.execute(sql`select nope from "listings".probe`)).rejects.toThrow();
    });
    const spans = exporter.getFinishedSpans();
    const operation = spans.find((s) => s.name === 'query Probe')!;
    const statements = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(
      statements.map((s) => ({ name: s.name, parent: s.parentSpanContext?.spanId, failed: s.status.code === 2 })),
    ).toEqual([
      { name: 'SELECT', parent: operation.spanContext().spanId, failed: false },
      { name: 'SELECT', parent: operation.spanContext().spanId, failed: true },
    ]);
  });
});
