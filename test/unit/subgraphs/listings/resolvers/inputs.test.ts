import 'reflect-metadata';
import { BadUserInputError, type FieldProblem } from '../../../../../lib/errors';
import { validateArguments } from '../../../../../lib/validation';
import { ListingCategory, ListingStatus } from '../../../../../subgraphs/listings/entities/enums';
import {
  CreateListingInput,
  ListingFilterInput,
  MoneyInput,
  RegisterUserInput,
  UpdateListingInput,
  UpdateUserInput,
} from '../../../../../subgraphs/listings/resolvers/inputs';

const validate = (value: unknown) => validateArguments(value as object, undefined as any, undefined as any);

/** The problems validateArguments reports, or null when the value is valid. */
async function problems(value: unknown): Promise<FieldProblem[] | null> {
  try {
    await validate(value);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(BadUserInputError);
    const error = err as BadUserInputError;
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    return error.extensions.fields as FieldProblem[];
  }
}
const fieldsOf = async (value: unknown) => [...new Set((await problems(value))?.map((p) => p.field) ?? [])];

const money = (amount: number, currency = 'USD') => Object.assign(new MoneyInput(), { amount, currency });

const createInput = (overrides: Partial<CreateListingInput> = {}) =>
  Object.assign(new CreateListingInput(), {
    title: 'Blue bicycle',
    description: 'Barely used, new tyres.',
    price: money(12_000),
    category: ListingCategory.OTHER,
    location: 'Johannesburg',
    draft: false,
    ...overrides,
  });

const registerInput = (overrides: Partial<RegisterUserInput> = {}) =>
  Object.assign(new RegisterUserInput(), { name: 'Ada Lovelace', email: 'ada@example.com', ...overrides });

describe('CreateListingInput', () => {
  it('accepts a valid listing, including edge lengths and a zero price', async () => {
    expect(await problems(createInput())).toBeNull();
    expect(
      await problems(createInput({ title: 'abc', description: 'x', location: 'y', price: money(0, 'EUR') })),
    ).toBeNull();
    // The service upper-cases the currency before storing it.
    expect(await problems(createInput({ price: money(100, 'usd') }))).toBeNull();
    expect(
      await problems(
        createInput({
          title: 't'.repeat(120),
          description: 'd'.repeat(5000),
          location: 'l'.repeat(120),
          price: money(1_000_000_000),
        }),
      ),
    ).toBeNull();
  });

  it.each([
    ['title too short', { title: 'ab' }, 'title'],
    ['title too long', { title: 't'.repeat(121) }, 'title'],
    ['blank title', { title: '     ' }, 'title'],
    ['empty description', { description: '' }, 'description'],
    ['blank description', { description: ' \n\t ' }, 'description'],
    ['description too long', { description: 'd'.repeat(5001) }, 'description'],
    ['empty location', { location: '' }, 'location'],
    ['location too long', { location: 'l'.repeat(121) }, 'location'],
    ['negative price', { price: money(-1) }, 'price.amount'],
    ['price above the maximum', { price: money(1_000_000_001) }, 'price.amount'],
    ['unknown currency', { price: money(100, 'XXY') }, 'price.currency'],
  ] as Array<[string, Partial<CreateListingInput>, string]>)('refuses %s, naming %s', async (_, overrides, field) => {
    expect(await fieldsOf(createInput(overrides))).toEqual([field]);
  });

  it('names every bad field at once', async () => {
    let error: BadUserInputError | undefined;
    try {
      await validate(createInput({ title: ' ', description: '', price: money(-5, 'dollars'), location: '   ' }));
    } catch (err) {
      error = err as BadUserInputError;
    }
    expect(error).toBeInstanceOf(BadUserInputError);
    expect({ message: error!.message, extensions: error!.extensions }).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "BAD_USER_INPUT",
    "field": "title",
    "fields": [
      {
        "field": "title",
        "message": "title must not be blank",
      },
      {
        "field": "title",
        "message": "title must be 3 to 120 characters",
      },
      {
        "field": "description",
        "message": "description must not be blank",
      },
      {
        "field": "description",
        "message": "description must be 1 to 5000 characters",
      },
      {
        "field": "price.amount",
        "message": "amount must be 0 or more (minor units, e.g. cents)",
      },
      {
        "field": "price.currency",
        "message": "currency must be an ISO-4217 code such as USD",
      },
      {
        "field": "location",
        "message": "location must not be blank",
      },
    ],
  },
  "message": "title must not be blank",
}
`);
  });
});

describe('RegisterUserInput', () => {
  it('accepts a valid user', async () => {
    expect(await problems(registerInput())).toBeNull();
    expect(await problems(registerInput({ name: 'A' }))).toBeNull();
  });

  it.each([
    ['empty name', { name: '' }, 'name'],
    ['blank name', { name: '   ' }, 'name'],
    ['name too long', { name: 'n'.repeat(101) }, 'name'],
    ['invalid email', { email: 'not-an-email' }, 'email'],
    ['missing email', { email: undefined }, 'email'],
  ] as Array<[string, Partial<RegisterUserInput>, string]>)('refuses %s, naming %s', async (_, overrides, field) => {
    expect(await fieldsOf(registerInput(overrides))).toEqual([field]);
  });

  it('refuses an email over 254 characters', async () => {
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(59)}.com`;
    expect(email).toHaveLength(256);
    expect(await problems(registerInput({ email }))).toContainEqual({
      field: 'email',
      message: 'email must be at most 254 characters',
    });
  });

  it('reports blank name and bad email together', async () => {
    expect(await problems(registerInput({ name: '   ', email: 'nope' }))).toEqual([
      { field: 'name', message: 'name must not be blank' },
      { field: 'email', message: 'email must be a valid email address' },
    ]);
  });
});

describe('UpdateListingInput and UpdateUserInput', () => {
  it('accept an empty change (every field is optional), and null for an optional field', async () => {
    expect(await problems(new UpdateListingInput())).toBeNull();
    expect(await problems(Object.assign(new UpdateListingInput(), { title: null, price: null }))).toBeNull();
    expect(await problems(new UpdateUserInput())).toBeNull();
  });

  it('accept valid changes', async () => {
    expect(
      await problems(
        Object.assign(new UpdateListingInput(), {
          title: 'New title',
          price: money(500),
          category: ListingCategory.JOBS,
        }),
      ),
    ).toBeNull();
    expect(await problems(Object.assign(new UpdateUserInput(), { email: 'new@example.com' }))).toBeNull();
  });

  it.each([
    ['title too short', { title: 'ab' }, 'title'],
    ['blank description', { description: '   ' }, 'description'],
    ['negative price', { price: money(-1) }, 'price.amount'],
    ['bad currency', { price: money(1, 'ABC') }, 'price.currency'],
    ['empty location', { location: '' }, 'location'],
  ] as Array<[string, Partial<UpdateListingInput>, string]>)(
    'UpdateListingInput refuses %s',
    async (_, values, field) => {
      expect(await fieldsOf(Object.assign(new UpdateListingInput(), values))).toEqual([field]);
    },
  );

  it.each([
    ['blank name', { name: '  ' }, 'name'],
    ['invalid email', { email: 'a@' }, 'email'],
  ] as Array<[string, Partial<UpdateUserInput>, string]>)('UpdateUserInput refuses %s', async (_, values, field) => {
    expect(await fieldsOf(Object.assign(new UpdateUserInput(), values))).toEqual([field]);
  });
});

describe('ListingFilterInput', () => {
  it('accepts an empty filter and a full valid one', async () => {
    expect(await problems(new ListingFilterInput())).toBeNull();
    expect(
      await problems(
        Object.assign(new ListingFilterInput(), {
          category: ListingCategory.PETS,
          status: ListingStatus.ACTIVE,
          sellerId: '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
          search: 's'.repeat(100),
          minPrice: 0,
          maxPrice: 10,
        }),
      ),
    ).toBeNull();
  });

  it.each([
    ['a seller id that is not a uuid', { sellerId: 'user-1' }, 'sellerId'],
    ['a search over 100 characters', { search: 's'.repeat(101) }, 'search'],
    ['a negative minPrice', { minPrice: -1 }, 'minPrice'],
    ['a negative maxPrice', { maxPrice: -1 }, 'maxPrice'],
  ] as Array<[string, Partial<ListingFilterInput>, string]>)('refuses %s', async (_, values, field) => {
    expect(await problems(Object.assign(new ListingFilterInput(), values))).toEqual([
      { field, message: expect.stringContaining(field) },
    ]);
  });
});

describe('MoneyInput on its own', () => {
  it('accepts 0 and refuses a negative amount and a bad currency', async () => {
    expect(await problems(money(0))).toBeNull();
    expect(await problems(money(-1, 'US'))).toEqual([
      { field: 'amount', message: 'amount must be 0 or more (minor units, e.g. cents)' },
      { field: 'currency', message: 'currency must be an ISO-4217 code such as USD' },
    ]);
  });
});

describe('arguments that are not input objects', () => {
  it.each([
    ['a string', 'Blue bicycle'],
    ['null', null],
    ['a number', 5],
    ['undefined', undefined],
  ])('ignores %s', async (_, value) => {
    await expect(validate(value)).resolves.toBeUndefined();
  });
});
