/**
 * `npm run bench:sitemap`: the sitemap of LISTINGS (default 100,000) ACTIVE listings, as crawlers
 * read it. A fresh in-memory PGlite with the seo schema gets that many page rows (inserted
 * directly, in batches; nothing else runs), then the seo service's own routes serve `/sitemap.xml`
 * and every shard over loopback HTTP, read as a crawler reads them (streamed, counted, never kept).
 * Reports the time to the index, each shard's time to first byte and to the end, its size and URL
 * count, and the process's memory: RSS (PGlite's WebAssembly heap is in it) and the JS heap, sampled
 * every 20 ms while the shards stream, against the size of what was streamed. Checks the protocol's
 * limits (50,000 URLs and 50 MB a file) and that the shards hold as many URLs as there are listings
 * (that none repeats or is skipped is the keyset test's part, test/integration/seo.test.ts); exits 1 otherwise.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { projectRoot } from '../lib/data-dir';
import { createDatabase } from '../lib/db';
import { createLogger } from '../lib/logger';
import { SEO_DB_SCHEMA, SEO_MIGRATIONS } from '../subgraphs/seo/db/migrations';
import { pages } from '../subgraphs/seo/db/schema';
import { publicContentHash, type PublicListing } from '../subgraphs/seo/domain/public-listing';
import { SeoService } from '../subgraphs/seo/domain/seo.service';
import {
  createSitemapIndexRoute,
  createSitemapShardRoute,
  SITEMAP_INDEX_PATH,
  SITEMAP_SHARD_PATH,
} from '../subgraphs/seo/routes/sitemap.route';

const LISTINGS = Number(process.env.LISTINGS ?? 100_000);
const SHARD_SIZE = 50_000;
const INSERT_BATCH = 1000;
const MAX_FILE_BYTES = 50 * 1024 * 1024;
const MiB = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const log = (msg: string) => process.stderr.write(`[bench:sitemap] ${msg}\n`);

/** Counts a substring across chunk boundaries, without keeping the text. */
function counter(needle: string) {
  let tail = '';
  let count = 0;
  return {
    feed(chunk: string) {
      const text = tail + chunk;
      for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
      tail = text.slice(-(needle.length - 1));
    },
    get count() {
      return count;
    },
  };
}

/** The largest RSS and heap seen while `work` runs, sampled every 20 ms. */
async function peakDuring<T>(work: () => Promise<T>): Promise<{ value: T; rss: number; heap: number }> {
  let rss = process.memoryUsage().rss;
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 20);
  try {
    const value = await work();
    return { value, rss, heap };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const logger = createLogger({ level: 'silent' });
  const handle = await createDatabase({});
  await handle.migrate(SEO_MIGRATIONS, SEO_DB_SCHEMA);
  log(`inserting ${LISTINGS} ACTIVE pages`);
  const t0 = performance.now();
  const base = Date.now() - LISTINGS * 1000;
  for (let i = 0; i < LISTINGS; i += INSERT_BATCH) {
    const rows = Array.from({ length: Math.min(INSERT_BATCH, LISTINGS - i) }, (_, j) => {
      const id = randomUUID();
      const n = i + j;
      const content: PublicListing = {
        id,
        url: `https://saypro.example/listings/${id}-bench-listing-${n}`,
        title: `Bench listing ${n}`,
        description: 'A listing for the sitemap benchmark.',
        price: { amount: 10_000 + n, currency: 'USD' },
        category: 'JOBS',
        location: 'Cape Town',
        sellerName: 'Bench Seller',
      };
      const at = new Date(base + n * 1000);
      return {
        listingId: id,
        status: 'ACTIVE',
        url: content.url,
        content,
        contentHash: publicContentHash(content),
        contentChangedAt: at,
        sourceUpdatedAt: at,
        updatedAt: at,
      };
    });
    await handle.db.insert(pages).values(rows);
  }
  const insertMs = Math.round(performance.now() - t0);

  const seo = new SeoService({ db: handle.db, source: async () => [], logger });
  const options = { seo, baseUrl: 'https://api.saypro.example', shardSize: SHARD_SIZE };
  const index = createSitemapIndexRoute(options);
  const shard = createSitemapShardRoute(options);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname === SITEMAP_INDEX_PATH ? index : url.pathname === SITEMAP_SHARD_PATH ? shard : null;
    if (!route) return void res.writeHead(404).end();
    void route(req, res, url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** GET as a crawler: streamed, counted, never kept. */
  async function read(pathAndQuery: string) {
    const start = performance.now();
    const res = await fetch(`${origin}${pathAndQuery}`);
    const firstByteMs = performance.now() - start;
    const urls = counter('<url>');
    const sitemaps = counter('<sitemap>');
    const decoder = new TextDecoder();
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      const text = decoder.decode(chunk, { stream: true });
      urls.feed(text);
      sitemaps.feed(text);
    }
    return {
      status: res.status,
      bytes,
      urls: urls.count,
      sitemaps: sitemaps.count,
      firstByteMs: Math.round(firstByteMs),
      ms: Math.round(performance.now() - start),
    };
  }

  global.gc?.();
  const before = process.memoryUsage();
  const indexRead = await read(SITEMAP_INDEX_PATH);
  const shards: Array<Awaited<ReturnType<typeof read>> & { shard: number }> = [];
  const streamed = await peakDuring(async () => {
    for (let n = 1; n <= indexRead.sitemaps; n++)
      shards.push({ shard: n, ...(await read(`${SITEMAP_SHARD_PATH}?n=${n}`)) });
  });
  global.gc?.();
  const after = process.memoryUsage();
  server.close();
  await handle.close();

  const totalBytes = shards.reduce((sum, s) => sum + s.bytes, 0);
  const totalUrls = shards.reduce((sum, s) => sum + s.urls, 0);
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    listings: LISTINGS,
    shardSize: SHARD_SIZE,
    insertMs,
    index: indexRead,
    shards,
    totalBytes,
    totalUrls,
    memoryMiB: {
      rssBefore: MiB(before.rss),
      rssPeakWhileStreaming: MiB(streamed.rss),
      heapBefore: MiB(before.heapUsed),
      heapPeakWhileStreaming: MiB(streamed.heap),
      heapAfterGc: MiB(after.heapUsed),
      streamed: MiB(totalBytes),
    },
  };
  const dir = path.join(projectRoot(), 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'sitemap.json'), `${JSON.stringify(results, null, 2)}\n`);

  const lines = [
    `sitemap of ${LISTINGS} ACTIVE listings (node ${process.version}); rows inserted in ${insertMs} ms`,
    `  /sitemap.xml: ${indexRead.sitemaps} shards, ${indexRead.bytes} bytes, ${indexRead.ms} ms`,
    ...shards.map(
      (s) =>
        `  shard ${s.shard}: ${s.urls} URLs, ${MiB(s.bytes)} MiB, first byte ${s.firstByteMs} ms, whole ${s.ms} ms (${Math.round(s.urls / (s.ms / 1000))} URLs/s)`,
    ),
    `  memory: RSS ${results.memoryMiB.rssBefore} MiB before, peak ${results.memoryMiB.rssPeakWhileStreaming} MiB while streaming; JS heap ${results.memoryMiB.heapBefore} MiB before, peak ${results.memoryMiB.heapPeakWhileStreaming} MiB (garbage not yet collected), ${results.memoryMiB.heapAfterGc} MiB after a GC; ${results.memoryMiB.streamed} MiB streamed`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  const problems: string[] = [];
  if (indexRead.status !== 200) problems.push(`index answered ${indexRead.status}`);
  if (totalUrls !== LISTINGS) problems.push(`${totalUrls} URLs for ${LISTINGS} listings`);
  for (const s of shards) {
    if (s.status !== 200) problems.push(`shard ${s.shard} answered ${s.status}`);
    if (s.urls > SHARD_SIZE || s.bytes > MAX_FILE_BYTES)
      problems.push(`shard ${s.shard}: ${s.urls} URLs, ${s.bytes} bytes (limits 50,000 and 50 MB)`);
  }
  if (problems.length) {
    process.stderr.write(`[bench:sitemap] problems:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:sitemap] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
