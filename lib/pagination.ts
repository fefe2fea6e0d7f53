import { and, eq, lt, or, type AnyColumn, type SQL } from 'drizzle-orm';
import { BadUserInputError } from './errors';
import { isUuid } from './ids';

/** Relay cursor for keyset pagination on (createdAt DESC, id DESC): opaque to clients. */
export interface KeysetCursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): KeysetCursor {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const date = new Date(typeof createdAt === 'string' ? createdAt : NaN);
    if (typeof id === 'string' && isUuid(id) && !Number.isNaN(date.getTime())) return { createdAt: date, id };
  } catch {
    /* fall through */
  }
  throw new BadUserInputError({ field, message: `${field} is not a cursor this API returned` });
}

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export function pageSize(first: number | null | undefined, field = 'first'): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError({ field, message: `${field} must be between 1 and ${MAX_PAGE_SIZE}` });
  }
  return first;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
}

/** Rows fetched with `limit + 1`: the extra row only tells that a next page exists. */
export function toPage<T>(rows: T[], limit: number): Page<T> {
  return { nodes: rows.slice(0, limit), hasNextPage: rows.length > limit };
}

/** Edges, nodes and page info of a Relay connection page, for any node type. */
export function toConnectionParts<Row extends KeysetCursor, Node>(
  page: Page<Row>,
  hasPreviousPage: boolean,
  toNode: (row: Row) => Node,
) {
  const edges = page.nodes.map((row) => ({ cursor: encodeCursor(row), node: toNode(row) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** Keyset condition: rows strictly after the cursor in (createdAt DESC, id DESC) order. */
export function keysetAfter(createdAt: AnyColumn, id: AnyColumn, cursor: KeysetCursor): SQL {
  return or(lt(createdAt, cursor.createdAt), and(eq(createdAt, cursor.createdAt), lt(id, cursor.id)))!;
}
