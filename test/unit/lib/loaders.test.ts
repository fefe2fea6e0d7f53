import { NotFoundError } from '../../../lib/errors';
import { createByIdLoader, createGroupedLoader, loadOrNull } from '../../../lib/loaders';
import { registry } from '../../../lib/metrics';

interface Row {
  id: string;
  name: string;
}
const ROWS: Row[] = [
  { id: 'a', name: 'Ada' },
  { id: 'b', name: 'Bob' },
  { id: 'c', name: 'Cy' },
];

/** A fake table that answers in its own order, not the order asked for. */
const fakeFetch = () => jest.fn(async (ids: readonly string[]) => ROWS.filter((row) => ids.includes(row.id)).reverse());

describe('createByIdLoader', () => {
  it('answers in key order with a NotFoundError for each miss, in one fetch', async () => {
    const fetch = fakeFetch();
    const loader = createByIdLoader('User', fetch);
    const results = await loader.loadMany(['c', 'missing', 'a']);
    expect(results[0]).toEqual(ROWS[2]);
    expect(results[2]).toEqual(ROWS[0]);
    expect(results[1]).toBeInstanceOf(NotFoundError);
    expect((results[1] as NotFoundError).extensions).toEqual({ code: 'NOT_FOUND', entity: 'User', id: 'missing' });
    expect((results[1] as NotFoundError).message).toBe('User missing not found');
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch).toHaveBeenCalledWith(['c', 'missing', 'a']);
  });

  it('batches several loads in one tick into one fetch', async () => {
    const fetch = fakeFetch();
    const loader = createByIdLoader('User', fetch);
    const [b, a, b2] = await Promise.all([loader.load('b'), loader.load('a'), loader.load('b')]);
    expect([b.name, a.name, b2.name]).toEqual(['Bob', 'Ada', 'Bob']);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch).toHaveBeenCalledWith(['b', 'a']);
  });

  it('rejects load with NOT_FOUND for a miss', async () => {
    const loader = createByIdLoader('Listing', fakeFetch());
    await expect(loader.load('nope')).rejects.toMatchObject({
      message: 'Listing nope not found',
      extensions: { code: 'NOT_FOUND' },
    });
  });

  it('fetches again in the next tick only for keys it has not seen', async () => {
    const fetch = fakeFetch();
    const loader = createByIdLoader('User', fetch);
    await loader.load('a');
    await loader.loadMany(['a', 'b']);
    expect(fetch.mock.calls).toEqual([[['a']], [['b']]]);
  });
});

describe('loadOrNull', () => {
  it('answers the row for a hit and null for a miss', async () => {
    const loader = createByIdLoader('User', fakeFetch());
    await expect(loadOrNull(loader, 'b')).resolves.toEqual(ROWS[1]);
    await expect(loadOrNull(loader, 'missing')).resolves.toBeNull();
  });

  it('rethrows any other error', async () => {
    const failure = new Error('connection terminated');
    const loader = createByIdLoader<Row>('User', async () => {
      throw failure;
    });
    await expect(loadOrNull(loader, 'a')).rejects.toBe(failure);
  });
});

describe('createGroupedLoader', () => {
  interface PageKey {
    sellerId: string;
    first: number;
  }
  const setup = () => {
    const fetchGroup = jest.fn(async (keys: PageKey[]) =>
      keys.map((key) => `${key.sellerId} first ${key.first} (batch of ${keys.length})`),
    );
    const loader = createGroupedLoader<PageKey, string>(
      { service: 'listings', loader: 'test' },
      (key) => `first=${key.first}`,
      fetchGroup,
      (key) => `${key.sellerId}:${key.first}`,
    );
    return { fetchGroup, loader };
  };

  it('fetches each group once and maps the results back to their keys', async () => {
    const { fetchGroup, loader } = setup();
    const results = await Promise.all([
      loader.load({ sellerId: 'ada', first: 10 }),
      loader.load({ sellerId: 'bob', first: 5 }),
      loader.load({ sellerId: 'cy', first: 10 }),
      loader.load({ sellerId: 'dee', first: 5 }),
      loader.load({ sellerId: 'eve', first: 1 }),
    ]);
    expect(results).toEqual([
      'ada first 10 (batch of 2)',
      'bob first 5 (batch of 2)',
      'cy first 10 (batch of 2)',
      'dee first 5 (batch of 2)',
      'eve first 1 (batch of 1)',
    ]);
    expect(fetchGroup).toHaveBeenCalledTimes(3);
    expect(fetchGroup.mock.calls.map(([keys]) => keys.map((k) => k.sellerId))).toEqual(
      expect.arrayContaining([['ada', 'cy'], ['bob', 'dee'], ['eve']]),
    );
  });

  it('uses the cache key, so equal keys are fetched once', async () => {
    const { fetchGroup, loader } = setup();
    const [x, y] = await Promise.all([
      loader.load({ sellerId: 'ada', first: 10 }),
      loader.load({ sellerId: 'ada', first: 10 }),
    ]);
    expect(x).toBe(y);
    expect(fetchGroup).toHaveBeenCalledTimes(1);
    expect(fetchGroup.mock.calls[0]![0]).toHaveLength(1);
  });

  it("observes each batch's size (all its groups together) under its service and loader", async () => {
    const observed = async () => {
      const metric = await registry.getSingleMetric('dataloader_batch_size')!.get();
      const of = (suffix: string) =>
        metric.values.find(
          (v) =>
            (v as { metricName?: string }).metricName === `dataloader_batch_size_${suffix}` &&
            v.labels.loader === 'test',
        )?.value ?? 0;
      return { count: of('count'), sum: of('sum') };
    };
    const before = await observed();
    const { loader } = setup();
    await Promise.all([
      loader.load({ sellerId: 'ada', first: 10 }),
      loader.load({ sellerId: 'bob', first: 5 }),
      loader.load({ sellerId: 'cy', first: 10 }),
    ]);
    const after = await observed();
    expect({ batches: after.count - before.count, keys: after.sum - before.sum }).toEqual({ batches: 1, keys: 3 });
  });
});
