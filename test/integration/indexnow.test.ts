import { sql } from 'drizzle-orm';
import { INDEXNOW_DEV_KEY } from '../../lib/config';
import {
  ListingIndexNowDocument,
  ListingSeoDocument,
  RebuildSitemapDocument,
  ResubmitAllListingsToIndexNowDocument,
  ResubmitListingToIndexNowDocument,
  UpdateListingDocument,
  WithdrawListingDocument,
} from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { settled } from '../helpers/settled';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * IndexNow end to end: listings change through the gateway, the seo service queues their URLs and
 * its sender POSTs them to the IndexNow emulator over HTTP, which checks our key against the key
 * file the gateway serves (keyLocation on loopback: it fetches it).
 */
const WINDOW_MS = 4000;
let stack: TestStack;
let seller: TestUser;
let other: TestUser;
let admin: TestUser;

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    // An outage opens the circuit after a few failures: let it close again quickly here.
    PROVIDER_BREAKER_COOLDOWN_MS: '300',
    PROVIDER_RETRY_DELAY_MS: '20',
    // Publishing 200 listings through the whole stack takes this machine several seconds: a window
    // that spans a good part of it (the default is 2 s, for sites that publish a few at a time).
    INDEXNOW_BATCH_WINDOW_MS: String(WINDOW_MS),
    // The tests poll Listing.seo as the seller for many seconds at a time.
    RATE_LIMIT_PER_VIEWER: '0',
  });
  seller = await registerUser(stack, 'Ivy Indexer');
  other = await registerUser(stack, 'Otto Other');
  admin = await registerUser(stack, 'Ada Admin', ['user', 'admin']);
}, 120_000);
afterAll(() => stack?.stop());

const emulator = () => stack.indexnow!;
/** Creates an ACTIVE (free) listing of the seller; with its canonical URL, as listings answers it. */
async function publish(title: string) {
  const listing = await createListing(stack, seller, { category: 'JOBS', title });
  const { url } = dataOf(await stack.graph(ListingSeoDocument, { id: listing.id })).listing;
  return { ...listing, url };
}
const seoOf = async (id: string, token = seller.token) =>
  dataOf(await stack.graph(ListingIndexNowDocument, { id }, { token })).listing.seo;
/** A wait long enough for a batch window plus the event path on a loaded machine. */
const soon = <T>(read: () => Promise<T>, done: (value: T) => boolean) => eventually(read, done, 30_000);
/** How many times IndexNow accepted each of these URLs. */
const arrivals = (urls: string[]) => {
  const received = emulator().receivedUrls();
  return urls.map((url) => received.filter((u) => u === url).length);
};
/** Every URL of the seo queue has been accepted (none pending or retrying), and no event is in flight. */
async function drained(): Promise<void> {
  await settled(stack);
  const waiting = await eventually(
    async () =>
      (await stack.handle.db.execute(
        sql`select count(*)::int as n from seo.indexnow_urls where status in ('PENDING', 'RETRYING')`,
      )) as unknown as { rows: Array<{ n: number | string }> },
    (r) => Number(r.rows[0]!.n) === 0,
    30_000,
  );
  expect(Number(waiting.rows[0]!.n)).toBe(0);
}

describe('the key file through the gateway', () => {
  it('serves the key as text/plain at /<key>.txt, and nothing for another name', async () => {
    const res = await fetch(new URL(`/${INDEXNOW_DEV_KEY}.txt`, stack.urls.gateway));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe(INDEXNOW_DEV_KEY);
    expect((await fetch(new URL('/someone-elses-key.txt', stack.urls.gateway))).status).toBe(404);
    expect((await fetch(new URL(`/${INDEXNOW_DEV_KEY}.txt`, stack.urls.gateway), { method: 'POST' })).status).toBe(405);
  });
});

describe('IndexNow submissions', () => {
  it('sends 200 listings published at once in a handful of POSTs, every URL exactly once', async () => {
    await drained();
    const postsBefore = emulator().state().submissions.length;
    const ids: string[] = [];
    for (let i = 0; i < 200; i += 25)
      ids.push(
        ...(
          await Promise.all(
            Array.from({ length: 25 }, (_, j) =>
              createListing(stack, seller, { category: 'JOBS', title: `Job ${i + j}` }),
            ),
          )
        ).map((l) => l.id),
      );
    // Their canonical URLs, as the seo service read them from listings.
    const pages = await eventually(
      () => stack.seo.seo.byListingIds(ids),
      (rows) => rows.every((r) => r?.status === 'ACTIVE'),
      60_000,
    );
    const urls = pages.map((p) => p!.url);
    const counts = await eventually(
      async () => arrivals(urls),
      (found) => found.every((n) => n >= 1),
      60_000,
    );
    expect(counts.filter((n) => n >= 1)).toHaveLength(urls.length);
    await drained();
    expect(arrivals(urls).every((n) => n === 1)).toBe(true);
    const posts = emulator().state().submissions.slice(postsBefore);
    // Not one POST per listing: a handful. How many depends on how long this machine takes to
    // publish 200 listings, so the bound is loose; what holds regardless is that a POST takes every
    // URL of the host that is waiting, so the next one comes about a batch window later (less a
    // change committing while a batch was claimed: a quarter window is plenty).
    expect(posts.length).toBeGreaterThanOrEqual(1);
    expect(posts.length).toBeLessThanOrEqual(20);
    const gaps = posts.slice(1).map((p, i) => Date.parse(p.at) - Date.parse(posts[i]!.at));
    expect(gaps.filter((gap) => gap < WINDOW_MS * 0.75)).toEqual([]);
    // The key was checked against the gateway's key file (200, not the 202 of an unchecked key).
    expect(posts.every((p) => p.status === 200 && p.method === 'POST' && p.key === INDEXNOW_DEV_KEY)).toBe(true);
    expect(posts[0]!.keyLocation).toBe(new URL(`/${INDEXNOW_DEV_KEY}.txt`, stack.urls.gateway).toString());
    expect(posts.every((p) => p.host === new URL(urls[0]!).host)).toBe(true);
  }, 120_000);

  it('delays submissions through an IndexNow outage and loses none of them', async () => {
    await drained();
    emulator().setFaults([{ kind: 'server_error', status: 503, times: 10_000 }]);
    const created = await Promise.all(['Welder', 'Roofer', 'Plumber'].map((title) => publish(title)));
    const urls = created.map((l) => l.url);
    const waiting = await eventually(
      () => Promise.all(created.map((l) => seoOf(l.id))),
      (seos) => seos.every((s) => s?.submissionStatus === 'RETRYING'),
      30_000,
    );
    expect(waiting.every((s) => s!.lastSubmittedAt === null)).toBe(true);
    expect(arrivals(urls)).toEqual([0, 0, 0]);
    expect(
      emulator()
        .state()
        .requests.some((r) => r.status === 503),
    ).toBe(true);

    emulator().clearFaults();
    const done = await eventually(
      () => Promise.all(created.map((l) => seoOf(l.id))),
      (seos) => seos.every((s) => s?.submissionStatus === 'SUBMITTED'),
      30_000,
    );
    expect(done.every((s) => s!.lastSubmittedAt !== null)).toBe(true);
    await drained();
    expect(arrivals(urls)).toEqual([1, 1, 1]);
  }, 90_000);

  it('submits a listing when it is published, edited, withdrawn and expired; Listing.seo follows', async () => {
    await drained();
    const listing = await publish('Harbour pilot');
    const published = await soon(
      () => seoOf(listing.id),
      (s) => s?.submissionStatus === 'SUBMITTED',
    );
    expect(published).toEqual({
      url: listing.url,
      submissionStatus: 'SUBMITTED',
      lastSubmittedAt: expect.any(String),
    });
    expect(arrivals([listing.url])).toEqual([1]);
    // Only the seller and admins see it.
    expect(await seoOf(listing.id, other.token)).toBeNull();
    expect((await seoOf(listing.id, admin.token))?.url).toBe(listing.url);

    // An edit of public content: the new URL (a new slug) goes out.
    const edited = dataOf(
      await stack.graph(
        UpdateListingDocument,
        { id: listing.id, input: { title: 'Harbour pilot wanted' } },
        { token: seller.token },
      ),
    ).updateListing;
    const editedUrl = dataOf(await stack.graph(ListingSeoDocument, { id: edited.id })).listing.url;
    expect(editedUrl).not.toBe(listing.url);
    const afterEdit = await soon(
      () => seoOf(listing.id),
      (s) =>
        s?.url === editedUrl && s.submissionStatus === 'SUBMITTED' && s.lastSubmittedAt! > published!.lastSubmittedAt!,
    );
    expect(arrivals([editedUrl])).toEqual([1]);

    // Withdrawal: the same URL again, so search engines learn it is gone.
    dataOf(await stack.graph(WithdrawListingDocument, { id: listing.id }, { token: seller.token }));
    expect(
      await soon(
        async () => arrivals([editedUrl])[0],
        (count) => count === 2,
      ),
    ).toBe(2);
    const afterWithdrawal = await soon(
      () => seoOf(listing.id),
      (s) => s?.submissionStatus === 'SUBMITTED' && s.lastSubmittedAt! > afterEdit!.lastSubmittedAt!,
    );
    expect(afterWithdrawal!.url).toBe(editedUrl);

    await drained();
    const before = emulator().receivedUrls().length;

    // Admins can resubmit it.
    const resubmitted = dataOf(
      await stack.graph(ResubmitListingToIndexNowDocument, { id: listing.id }, { token: admin.token }),
    ).resubmitListingToIndexNow;
    expect(resubmitted.url).toBe(editedUrl);
    expect(
      await soon(
        async () => arrivals([editedUrl])[0],
        (count) => count === 3,
      ),
    ).toBe(3);
    await drained();
    expect(emulator().receivedUrls().length).toBe(before + 1);

    // Expiry of another listing.
    const expiring = await publish('Lighthouse keeper');
    expect(
      await soon(
        async () => arrivals([expiring.url])[0],
        (count) => count === 1,
      ),
    ).toBe(1);
    expect(await stack.listings.listings.expireDue(new Date(Date.now() + 400 * 86_400_000))).toBeGreaterThanOrEqual(1);
    expect(
      await soon(
        async () => arrivals([expiring.url])[0],
        (count) => count === 2,
      ),
    ).toBe(2);
  }, 90_000);

  it('lets admins queue every ACTIVE listing again and rebuild the pages from listings', async () => {
    await drained();
    const fresh = await publish('Ferry deckhand');
    expect(
      await soon(
        async () => arrivals([fresh.url])[0],
        (count) => count === 1,
      ),
    ).toBe(1);
    const queued = dataOf(
      await stack.graph(ResubmitAllListingsToIndexNowDocument, {}, { token: admin.token }),
    ).resubmitAllListingsToIndexNow;
    expect(queued).toBe(1); // the earlier test expired every other listing
    expect(
      await soon(
        async () => arrivals([fresh.url])[0],
        (count) => count === 2,
      ),
    ).toBe(2);
    const rebuilt = dataOf(await stack.graph(RebuildSitemapDocument, {}, { token: admin.token })).rebuildSitemap;
    expect(rebuilt).toBeGreaterThanOrEqual(205);
    // Nothing changed in listings: the rebuild pushes nothing.
    await drained();
    expect(arrivals([fresh.url])).toEqual([2]);
  }, 90_000);
});
