import 'reflect-metadata';
import { IsOptional, Length, Min, ValidateNested, type ValidationError } from 'class-validator';
import { BadUserInputError } from '../../../lib/errors';
import { NoUrl, problemsOf, SingleLine, validateArguments } from '../../../lib/validation';

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
    expect(await fieldsOf([outer({ label: 'ok' }), outer({ label: 'x' })])).toEqual([
      { field: 'label', message: 'label must be 2 to 10 characters' },
    ]);
  });

  it.each([
    ['a string', 'hello'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['true', true],
  ])('ignores %s', async (_, value) => {
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
      {
        property: 'price',
        constraints: undefined,
        children: [{ property: 'amount', constraints: { min: 'too small', max: 'too big' }, children: [] }],
      },
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

describe('text no input may hold', () => {
  it('refuses NUL characters and lone surrogates anywhere in an argument, naming the field', async () => {
    expect(await fieldsOf(outer({ label: 'a\u0000b' }))).toEqual([
      { field: 'label', message: 'label must be well-formed text without control characters' },
    ]);
    expect(await fieldsOf(outer({ label: 'ok', inner: Object.assign(inner(2), { note: '\ud800' }) }))).toEqual([
      { field: 'inner.note', message: 'inner.note must be well-formed text without control characters' },
    ]);
    expect(await fieldsOf('\udc00 lone low surrogate')).toEqual([
      { field: 'value', message: 'a value must be well-formed text without control characters' },
    ]);
    await expect(validate(outer({ label: '🚀 ünï' }))).resolves.toBeUndefined();
  });

  it.each([
    ['a C0 control (ESC, for terminal tricks)', 'a\u001b[31mred'],
    ['a bell', 'ding\u0007'],
    ['a vertical tab', 'a\u000bb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control (NEL)', 'a\u0085b'],
    ['a right-to-left override', 'invoice\u202egnp.exe'],
    ['a directional isolate', 'a\u2066b'],
  ])('refuses %s anywhere', async (_, text) => {
    expect(await fieldsOf(outer({ label: text }))).toEqual([
      { field: 'label', message: 'label must be well-formed text without control characters' },
    ]);
  });

  it('keeps tabs and line breaks (descriptions), emoji joiners and accents', async () => {
    await expect(validate(outer({ label: 'a\tb\r\nc' }))).resolves.toBeUndefined();
    await expect(validate(outer({ label: '👩\u200d💻 é' }))).resolves.toBeUndefined();
  });
});

describe('SingleLine and NoUrl', () => {
  class Named {
    @SingleLine('name')
    @NoUrl('name')
    name: string;
  }
  const named = (name: string) => Object.assign(new Named(), { name });

  it.each([
    'URGENT verify at http://evil.example/login',
    'go to evil.example now',
    'www.saypro-login',
    'hxxp://x',
    'javascript://x',
    'Visit SAYPRO.COM',
  ])('refuses a web address in a display name: %j', async (name) => {
    expect(await fieldsOf(named(name))).toEqual([{ field: 'name', message: 'name must not contain a web address' }]);
  });

  it.each(['Ada Lovelace', 'J. R. R. Tolkien', 'Dr. Who', "Seán O'Brien", 'Zoë 李', 'Mr. Smith Jr.'])(
    'accepts a name: %j',
    async (name) => {
      await expect(validate(named(name))).resolves.toBeUndefined();
    },
  );

  it.each(['Ada\nLovelace', 'Ada\rBcc: x@evil.example', 'Ada\tL', 'Ada\u2028L'])(
    'refuses line breaks and tabs in one-line text: %j',
    async (name) => {
      expect(((await fieldsOf(named(name))) as Array<unknown> | null)?.[0]).toEqual({
        field: 'name',
        message: 'name must be one line, without line breaks or tabs',
      });
    },
  );
});
