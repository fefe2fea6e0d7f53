import { sql } from 'drizzle-orm';
import type { EmbeddedStack } from '../../embedded/stack';
import { messages } from '../../subgraphs/email/db/schema';
import { eventually } from './eventually';

/** Events not yet worked by a consumer (dead letters excluded) and mail being sent or due. */
export async function unfinishedWork(stack: Pick<EmbeddedStack, 'handle'>): Promise<{ events: number; mail: number }> {
  const db = stack.handle.db;
  const jobs = (await db.execute(
    sql`select count(*)::int as n from pgboss.job where state in ('created', 'retry', 'active') and name not like '%.dead'`,
  )) as unknown as { rows: Array<{ n: number | string }> };
  const mail = (await db.execute(
    sql`select count(*)::int as n from ${messages}
        where ${messages.status} = 'SENDING' or (${messages.status} = 'QUEUED' and ${messages.nextAttemptAt} <= now())`,
  )) as unknown as { rows: Array<{ n: number | string }> };
  return { events: Number(jobs.rows[0]!.n), mail: Number(mail.rows[0]!.n) };
}

/**
 * Waits until every event has been consumed and no mail is due: what a test checks for "nobody
 * else got one" is then final, without a fixed sleep.
 */
export async function settled(stack: Pick<EmbeddedStack, 'handle'>, timeoutMs = 15_000): Promise<void> {
  await eventually(
    () => unfinishedWork(stack),
    (w) => w.events === 0 && w.mail === 0,
    timeoutMs,
  );
}
