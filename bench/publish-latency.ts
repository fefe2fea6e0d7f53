import { emulatorState, percentile, type GraphQL } from './shared';

interface IndexNowState {
  submissions: Array<{ at: string; urlList: string[] }>;
  requests: Array<{ method: string; status: number | 'dropped' }>;
}
interface Ga4State {
  received: Array<{ at: string; name: string; params: Record<string, unknown> }>;
}

export interface PublishLatencyFigures {
  listings: number;
  /** From the listing's publishedAt to the first IndexNow submission holding its URL. */
  indexNow: LatencyFigures & { posts: number };
  /** From publishedAt to the GA4 emulator receiving its listing_published event. */
  ga4: LatencyFigures;
}
interface LatencyFigures {
  arrived: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const LISTING = `query Published($id: ID!) { listing(id: $id) { id url publishedAt } }`;

const figuresOf = (latencies: number[]): LatencyFigures => ({
  arrived: latencies.length,
  p50Ms: percentile(latencies, 50),
  p99Ms: percentile(latencies, 99),
  maxMs: percentile(latencies, 100),
});

/**
 * How long after a listing goes live search engines and analytics hear of it, for listings published
 * by the charge load (paid, so ACTIVE): reads each listing's URL and publishedAt through the gateway,
 * then waits (up to `timeoutMs`) until the IndexNow emulator received a submission with every URL
 * and the GA4 emulator a listing_published event for every listing. Latencies are from publishedAt
 * to the emulator's receipt; the IndexNow figure includes the batch window (INDEXNOW_BATCH_WINDOW_MS)
 * by design. GA4 needs the bench users' consent: the bench runs with ANALYTICS_CONSENT_DEFAULT=granted.
 */
export async function publishLatency(options: {
  gatewayUrl: string;
  indexNowUrl: string;
  ga4Url: string;
  listings: Array<{ listingId: string; token: string }>;
  graphql: GraphQL;
  sleep: (ms: number) => Promise<unknown>;
  timeoutMs?: number;
}): Promise<PublishLatencyFigures> {
  const published = new Map<string, { url: string; at: number }>();
  for (const { listingId, token } of options.listings) {
    const { listing } = await options.graphql<{ listing: { id: string; url: string; publishedAt: string | null } }>(
      options.gatewayUrl,
      LISTING,
      { id: listingId },
      { authorization: `Bearer ${token}` },
    );
    if (listing.publishedAt) published.set(listing.id, { url: listing.url, at: Date.parse(listing.publishedAt) });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let indexNow: IndexNowState;
  let ga4: Ga4State;
  const firstSubmission = new Map<string, number>();
  const firstEvent = new Map<string, number>();
  for (;;) {
    [indexNow, ga4] = await Promise.all([
      emulatorState<IndexNowState>(options.indexNowUrl),
      emulatorState<Ga4State>(options.ga4Url),
    ]);
    firstSubmission.clear();
    for (const s of indexNow.submissions)
      for (const url of s.urlList) if (!firstSubmission.has(url)) firstSubmission.set(url, Date.parse(s.at));
    firstEvent.clear();
    for (const e of ga4.received) {
      const id = e.params.listing_id;
      if (e.name === 'listing_published' && typeof id === 'string' && !firstEvent.has(id))
        firstEvent.set(id, Date.parse(e.at));
    }
    const all = [...published].every(([id, p]) => firstSubmission.has(p.url) && firstEvent.has(id));
    if (all || Date.now() >= deadline) break;
    await options.sleep(250);
  }
  const toIndexNow: number[] = [];
  const toGa4: number[] = [];
  for (const [id, p] of published) {
    const submitted = firstSubmission.get(p.url);
    if (submitted !== undefined) toIndexNow.push(submitted - p.at);
    const received = firstEvent.get(id);
    if (received !== undefined) toGa4.push(received - p.at);
  }
  return {
    listings: published.size,
    indexNow: { ...figuresOf(toIndexNow), posts: indexNow.requests.filter((r) => r.method === 'POST').length },
    ga4: figuresOf(toGa4),
  };
}

/** What makes it a failed run: a published listing that never reached IndexNow or GA4. */
export function publishLatencyProblems(f: PublishLatencyFigures, expected: number): string[] {
  const p: string[] = [];
  if (f.listings !== expected) p.push(`${f.listings}/${expected} charged listings have a publishedAt`);
  if (f.indexNow.arrived !== f.listings) p.push(`${f.indexNow.arrived}/${f.listings} listing URLs reached IndexNow`);
  if (f.ga4.arrived !== f.listings) p.push(`${f.ga4.arrived}/${f.listings} listing_published events reached GA4`);
  return p;
}
