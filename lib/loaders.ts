import DataLoader from 'dataloader';
import { NotFoundError } from './errors';
import { metrics } from './metrics';

/** A DataLoader whose batch sizes go to `dataloader_batch_size{service, loader}`. */
export function observedLoader<K, V, C = K>(
  service: string,
  loader: string,
  batch: DataLoader.BatchLoadFn<K, V>,
  options?: DataLoader.Options<K, V, C>,
): DataLoader<K, V, C> {
  const labels = { service, loader };
  return new DataLoader<K, V, C>((keys) => {
    metrics.loaderBatch.observe(labels, keys.length);
    return batch(keys);
  }, options);
}

/**
 * A per-request loader of entities by id: one batched fetch per tick, results in key order, a
 * NotFoundError in the place of each miss (so `load` rejects with NOT_FOUND).
 */
export function createByIdLoader<T extends { id: string }>(
  entity: string,
  fetch: (ids: readonly string[]) => Promise<T[]>,
  service = 'listings',
): DataLoader<string, T> {
  return observedLoader<string, T>(service, entity, async (ids) => {
    const rows = await fetch(ids);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? new NotFoundError(entity, id));
  });
}

/**
 * A per-request loader whose keys carry arguments besides the id (page size, cursor): keys with the
 * same `group` are fetched together in one call of `fetchGroup`. Its batch sizes (all groups of a
 * tick together) go to `dataloader_batch_size{service, loader}` as the other loaders' do.
 */
export function createGroupedLoader<K, V>(
  name: { service: string; loader: string },
  groupOf: (key: K) => string,
  fetchGroup: (keys: K[]) => Promise<V[]>,
  cacheKey: (key: K) => string,
): DataLoader<K, V, string> {
  return observedLoader<K, V, string>(
    name.service,
    name.loader,
    async (keys) => {
      const groups = new Map<string, number[]>();
      keys.forEach((key, index) => {
        const group = groupOf(key);
        groups.set(group, [...(groups.get(group) ?? []), index]);
      });
      const results = new Array<V>(keys.length);
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          const values = await fetchGroup(indexes.map((i) => keys[i]!));
          indexes.forEach((keyIndex, j) => (results[keyIndex] = values[j]!));
        }),
      );
      return results;
    },
    { cacheKeyFn: cacheKey },
  );
}

/** `load` that answers null for a miss instead of NOT_FOUND (entity references, optional links). */
export async function loadOrNull<T>(loader: DataLoader<string, T>, id: string): Promise<T | null> {
  try {
    return await loader.load(id);
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}
