import 'reflect-metadata';
import { IsOptional, Length, Min, ValidateNested, type ValidationError } from 'class-validator';
import { BadUserInputError } from '../../../lib/errors';
import { problemsOf, validateArguments } from '../../../lib/validation';

class Inner {
  @Min(1, { message: 'count must be 1 or more' })
  count: number;
}
class Outer {
  @Length(2, 10, { message: 'label must be 2 to 10 characters' })
  label: string;

  @IsOptional()
  @ValidateNested()
  inner?: Inner;
}

const outer = (values: Partial<Outer>) => Object.assign(new Outer(), values);
const inner = (count: number) => Object.assign(new Inner(), { count });
const validate = (value: unknown) => validateArguments(value as object, undefined as any, undefined as any);

async function fieldsOf(value: unknown) {
  try {
    await validate(value);
  } catch (err) {
    expect(err).toBeInstanceOf(BadUserInputError);
    return (err as BadUserInputError).extensions.fields;
  }
  return null;
}

describe('validateArguments', () => {
  it('passes a valid object', async () => {
    await expect(validate(outer({ label: 'ok', inner: inner(2) }))).resolves.toBeUndefined();
    await expect(validate(outer({ label: 'ok' }))).resolves.toBeUndefined();
  });

  it('names nested fields with a dotted path', async () => {
    expect(await fieldsOf(outer({ label: 'x', inner: inner(0) }))).toEqual([
      { field: 'label', message: 'label must be 2 to 10 characters' },
      { field: 'inner.count', message: 'count must be 1 or more' },
    ]);
  });

  it('validates every element of a list argument', async () => {
    expect(await fieldsOf([outer({ label: 'ok' }), outer({ label: 'x' })])).toEqual([{ field: 'label', message: 'label must be 2 to 10 characters' }]);
  });

  it.each([['a string', 'hello'], ['a number', 42], ['null', null], ['undefined', undefined], ['true', true]])('ignores %s', async (_, value) => {
    await expect(validate(value)).resolves.toBeUndefined();
  });

  it('never echoes the rejected value or the target object', async () => {
    let error: unknown;
    try {
      await validate(outer({ label: 'a-very-long-secret-label' }));
    } catch (err) {
      error = err;
    }
    expect(JSON.stringify((error as BadUserInputError).extensions)).not.toContain('a-very-long-secret-label');
  });
});

describe('problemsOf', () => {
  it('flattens constraints and children', () => {
    const errors = [
      { property: 'price', constraints: undefined, children: [{ property: 'amount', constraints: { min: 'too small', max: 'too big' }, children: [] }] },
      { property: 'title', constraints: { length: 'too short' } },
    ] as unknown as ValidationError[];
    expect(problemsOf(errors)).toEqual([
      { field: 'price.amount', message: 'too small' },
      { field: 'price.amount', message: 'too big' },
      { field: 'title', message: 'too short' },
    ]);
    expect(problemsOf([])).toEqual([]);
  });
});

describe('text PostgreSQL would refuse', () => {
  it('refuses NUL characters and lone surrogates anywhere in an argument, naming the field', async () => {
    expect(await fieldsOf(outer({ label: 'a\u0000b' }))).toEqual([{ field: 'label', message: 'label must be well-formed text without NUL characters' }]);
    expect(await fieldsOf(outer({ label: 'ok', inner: Object.assign(inner(2), { note: '\ud800' }) }))).toEqual([
      { field: 'inner.note', message: 'inner.note must be well-formed text without NUL characters' },
    ]);
    expect(await fieldsOf('\udc00 lone low surrogate')).toEqual([{ field: 'value', message: 'a value must be well-formed text without NUL characters' }]);
    await expect(validate(outer({ label: '🚀 ünï' }))).resolves.toBeUndefined();
  });
});
