import { randomUUID } from 'node:crypto';
import { BadUserInputError } from '../../../lib/errors';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  decodeCursor,
  encodeCursor,
  pageSize,
  toPage,
} from '../../../lib/pagination';

const ID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const b64 = (text: string) => Buffer.from(text).toString('base64url');

function badInput(fn: () => unknown): BadUserInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadUserInputError);
    return err as BadUserInputError;
  }
  throw new Error('expected BadUserInputError');
}

describe('cursors', () => {
  it('round-trip', () => {
    const cursor = { createdAt: new Date('2024-05-01T12:34:56.789Z'), id: randomUUID() };
    const encoded = encodeCursor(cursor);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(encoded)).toEqual(cursor);
  });

  it('accept an upper-case uuid', () => {
    const cursor = { createdAt: new Date('2024-01-01T00:00:00.000Z'), id: ID.toUpperCase() };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ['garbage', 'not a cursor!!'],
    ['an empty string', ''],
    ['base64 of non-JSON', b64('hello world')],
    ['base64 of a JSON number', b64('42')],
    ['base64 of a JSON object', b64(JSON.stringify({ createdAt: '2024-05-01T00:00:00.000Z', id: ID }))],
    ['a non-uuid id', b64(JSON.stringify(['2024-05-01T00:00:00.000Z', 'listing-1']))],
    ['a numeric id', b64(JSON.stringify(['2024-05-01T00:00:00.000Z', 42]))],
    ['an invalid date', b64(JSON.stringify(['yesterday', ID]))],
    ['a missing id', b64(JSON.stringify(['2024-05-01T00:00:00.000Z']))],
  ])('refuse %s as BAD_USER_INPUT on after', (_, cursor) => {
    const error = badInput(() => decodeCursor(cursor));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });

  it('name the argument they came from', () => {
    const error = badInput(() => decodeCursor('garbage', 'before'));
    expect({ message: error.message, extensions: error.extensions }).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "BAD_USER_INPUT",
    "field": "before",
    "fields": [
      {
        "field": "before",
        "message": "before is not a cursor this API returned",
      },
    ],
  },
  "message": "before is not a cursor this API returned",
}
`);
  });
});

describe('pageSize', () => {
  it.each([
    [undefined, DEFAULT_PAGE_SIZE],
    [null, DEFAULT_PAGE_SIZE],
    [1, 1],
    [37, 37],
    [MAX_PAGE_SIZE, MAX_PAGE_SIZE],
  ])('pageSize(%j) is %d', (first, expected) => {
    expect(pageSize(first)).toBe(expected);
  });

  it('defaults to 20 and caps at 100', () => {
    expect(DEFAULT_PAGE_SIZE).toBe(20);
    expect(MAX_PAGE_SIZE).toBe(100);
  });

  it.each([0, -1, 101, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %d', (first) => {
    const error = badInput(() => pageSize(first));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(error.message).toBe('first must be between 1 and 100');
  });

  it('names a custom field', () => {
    expect(badInput(() => pageSize(0, 'last')).extensions).toMatchObject({
      field: 'last',
      fields: [{ field: 'last', message: 'last must be between 1 and 100' }],
    });
  });
});

describe('toPage', () => {
  it('drops the probe row and reports a next page', () => {
    expect(toPage([1, 2, 3], 2)).toEqual({ nodes: [1, 2], hasNextPage: true });
  });

  it('reports no next page when the rows fit', () => {
    expect(toPage([1, 2], 2)).toEqual({ nodes: [1, 2], hasNextPage: false });
    expect(toPage([1], 2)).toEqual({ nodes: [1], hasNextPage: false });
    expect(toPage([], 2)).toEqual({ nodes: [], hasNextPage: false });
  });
});
