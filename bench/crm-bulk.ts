import { randomUUID } from 'node:crypto';
import { mintToken } from '../lib/auth';
import { confirmEmail, emulatorState, type GraphQL } from './shared';

interface HubSpotState {
  requests: Array<{ method: string; path: string; status: number; at: string; batchSize?: number }>;
  rateLimited: number;
  contacts: unknown[];
  limits: { rateLimit: number; rateWindowMs: number };
}

export interface CrmBulkFigures {
  usersRegistered: number;
  registerMs: number;
  /** Time until the automatic sync (user.created → flusher) had every new user SYNCED. */
  autoSyncMs: number;
  autoSyncUpserts: number;
  bulk: {
    total: number;
    done: number;
    failed: number;
    ms: number;
    usersPerSec: number;
    upserts: number;
    maxBatch: number;
    hubspotCallsPerPage: number;
    rateLimited: number;
  };
  sellerPage: { listings: number; hubspotBatchReads: number; hubspotCalls: number };
  limits: { rateLimit: number; rateWindowMs: number };
}

const REGISTER = `mutation Register($input: RegisterUserInput!) { registerUser(input: $input) { id } }`;
const START = `mutation { syncAllUsersToCrm { id state total done failed } }`;
const JOB = `query Job($id: ID!) { crmSyncJob(id: $id) { id state total done failed } }`;
const CONTACT = `query Contact($userId: ID!) { crmContact(userId: $userId) { syncStatus } }`;
const SELLER_PAGE = `query { listings(first: 50) { nodes { id seller { id crmContact { hubspotId syncStatus } } } } }`;

const hubspotState = (url: string) => emulatorState<HubSpotState>(url);

/**
 * CRM at scale, on the running embedded stack: registers `users` users through the gateway (their
 * automatic sync is timed too), then runs `syncAllUsersToCrm` over everyone and times it, counting
 * the HubSpot emulator's requests; finally one 50-listing page with each seller's crmContact.
 */
export async function crmBulkBench(options: {
  gatewayUrl: string;
  hubspotUrl: string;
  jwtSecret: string;
  /** Signs the confirmation links, as the email service does: only confirmed addresses go to the CRM. */
  internalSecret: string;
  users: number;
  graphql: GraphQL;
  sleep: (ms: number) => Promise<unknown>;
}): Promise<CrmBulkFigures> {
  const { gatewayUrl, hubspotUrl, graphql, sleep } = options;
  const admin = {
    authorization: `Bearer ${await mintToken({ secret: options.jwtSecret, userId: randomUUID(), roles: ['admin'], expiresIn: '2h' })}`,
  };
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < options.users; i++) {
    const email = `bulk.user.${i + 1}@example.com`;
    const { registerUser } = await graphql<{ registerUser: { id: string } }>(
      gatewayUrl,
      REGISTER,
      { input: { name: `Bulk User ${i + 1}`, email } },
      admin,
    );
    await confirmEmail(graphql, gatewayUrl, { id: registerUser.id, email }, options.internalSecret, admin);
    ids.push(registerUser.id);
  }
  const registerMs = Math.round(performance.now() - t0);
  const beforeAuto = new Date(t0 + performance.timeOrigin);
  for (;;) {
    const last = await graphql<{ crmContact: { syncStatus: string } }>(
      gatewayUrl,
      CONTACT,
      { userId: ids.at(-1) },
      admin,
    );
    if (last.crmContact.syncStatus === 'SYNCED') break;
    if (performance.now() - t0 > 120_000) throw new Error('automatic CRM sync did not finish within 120 s');
    await sleep(100);
  }
  const autoSyncMs = Math.round(performance.now() - t0);
  const autoState = await hubspotState(hubspotUrl);
  const autoSyncUpserts = autoState.requests.filter(
    (r) => r.path.endsWith('/batch/upsert') && new Date(r.at) >= beforeAuto,
  ).length;

  const rateLimitedBefore = autoState.rateLimited;
  const started = new Date();
  const t1 = performance.now();
  const { syncAllUsersToCrm: job } = await graphql<{ syncAllUsersToCrm: { id: string } }>(gatewayUrl, START, {}, admin);
  let final: { state: string; total: number; done: number; failed: number };
  for (;;) {
    final = (await graphql<{ crmSyncJob: typeof final }>(gatewayUrl, JOB, { id: job.id }, admin)).crmSyncJob;
    if (final.state === 'COMPLETED') break;
    if (performance.now() - t1 > 180_000)
      throw new Error(`bulk CRM sync not COMPLETED after 180 s: ${JSON.stringify(final)}`);
    await sleep(50);
  }
  const ms = Math.round(performance.now() - t1);
  const afterBulk = await hubspotState(hubspotUrl);
  const bulkCalls = afterBulk.requests.filter((r) => new Date(r.at) >= started && !r.path.startsWith('/__'));
  const upserts = bulkCalls.filter((r) => r.path.endsWith('/batch/upsert'));
  const pages = Math.ceil(final.total / 100);

  const beforePage = new Date();
  const page = await graphql<{ listings: { nodes: unknown[] } }>(gatewayUrl, SELLER_PAGE, {}, admin);
  const pageCalls = (await hubspotState(hubspotUrl)).requests.filter((r) => new Date(r.at) >= beforePage);
  return {
    usersRegistered: options.users,
    registerMs,
    autoSyncMs,
    autoSyncUpserts,
    bulk: {
      total: final.total,
      done: final.done,
      failed: final.failed,
      ms,
      usersPerSec: Math.round((final.done / ms) * 1000),
      upserts: upserts.length,
      maxBatch: Math.max(0, ...upserts.map((r) => r.batchSize ?? 0)),
      hubspotCallsPerPage: Math.round((bulkCalls.length / pages) * 100) / 100,
      rateLimited: afterBulk.rateLimited - rateLimitedBefore,
    },
    sellerPage: {
      listings: page.listings.nodes.length,
      hubspotBatchReads: pageCalls.filter((r) => r.path.endsWith('/batch/read')).length,
      hubspotCalls: pageCalls.length,
    },
    limits: afterBulk.limits,
  };
}

/** What makes the CRM part of a run a failure. */
export function crmBulkProblems(f: CrmBulkFigures): string[] {
  const problems: string[] = [];
  if (f.bulk.done !== f.bulk.total || f.bulk.failed !== 0)
    problems.push(`bulk sync processed ${f.bulk.done}/${f.bulk.total}, ${f.bulk.failed} failed`);
  if (f.bulk.rateLimited !== 0) problems.push(`bulk sync earned ${f.bulk.rateLimited} 429s`);
  if (f.bulk.maxBatch > 100) problems.push(`an upsert carried ${f.bulk.maxBatch} contacts`);
  if (f.sellerPage.hubspotBatchReads > 1)
    problems.push(`a 50-listing page with crmContact made ${f.sellerPage.hubspotBatchReads} HubSpot batch reads`);
  return problems;
}
