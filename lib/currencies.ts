/**
 * Currencies and their decimals, in one place. Our amounts are integers in the currency's minor
 * unit as ISO 4217 defines it: 1000 USD is $10.00, 1000 JPY is ¥1000, 100000 HUF is 1000.00 Ft.
 * The table is ours, not Intl's: CLDR (what Intl knows) gives HUF no decimals and changes with
 * Node's ICU version. Providers that take decimal strings (PayPal) may allow fewer decimals than
 * ISO does (PayPal: none for HUF and TWD), so an amount is converted here or refused here.
 */

/** ISO 4217 exponents other than 2. */
const ISO_DIGITS: Readonly<Record<string, number>> = {
  ...Object.fromEntries(
    'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' ').map((code) => [code, 0]),
  ),
  ...Object.fromEntries('BHD IQD JOD KWD LYD OMR TND'.split(' ').map((code) => [code, 3])),
  CLF: 4,
  UYW: 4,
};

/** Digits of the ISO 4217 minor unit (USD 2, JPY 0, KWD 3). Throws RangeError for a code that is not three letters. */
export function minorUnitDigits(currency: string): number {
  const code = currency.toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new RangeError(`Not an ISO 4217 currency code: ${currency}`);
  return ISO_DIGITS[code] ?? 2;
}

/**
 * PayPal's currency codes for payments and the decimals each accepts (HUF, JPY and TWD: none; a
 * decimal amount in them is an error). PayPal's "Currency codes" reference.
 */
export const PAYPAL_CURRENCY_DECIMALS: Readonly<Record<string, 0 | 2>> = {
  AUD: 2,
  BRL: 2,
  CAD: 2,
  CNY: 2,
  CZK: 2,
  DKK: 2,
  EUR: 2,
  HKD: 2,
  HUF: 0,
  ILS: 2,
  JPY: 0,
  MYR: 2,
  MXN: 2,
  TWD: 0,
  NZD: 2,
  NOK: 2,
  PHP: 2,
  PLN: 2,
  GBP: 2,
  SGD: 2,
  SEK: 2,
  CHF: 2,
  THB: 2,
  USD: 2,
};

/** An amount that the target format cannot carry exactly (a fraction PayPal does not take, too many decimals). */
export class AmountPrecisionError extends RangeError {
  constructor(
    message: string,
    readonly currency: string,
  ) {
    super(message);
    this.name = 'AmountPrecisionError';
  }
}

/** A decimal as PayPal writes one: digits, optionally a point and more digits (`10`, `10.5`, `.5`). */
const DECIMAL = /^(\d+|\d*\.\d+)$/;

/** `1234, 2` → `12.34`; `1200, 0` → `1200`. Integer arithmetic on strings: no float rounding. */
function shift(minor: number, digits: number): string {
  const text = String(minor).padStart(digits + 1, '0');
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * Our minor units → the decimal string for `decimals` places. Refuses (AmountPrecisionError) an
 * amount with a fraction that many places cannot hold: 150050 HUF minor units (1500.50 Ft) for PayPal.
 */
export function toDecimalString(minor: number, currency: string, decimals = minorUnitDigits(currency)): string {
  if (!Number.isSafeInteger(minor) || minor < 0)
    throw new RangeError(`Amount must be a non-negative integer of minor units, not ${minor}`);
  const digits = minorUnitDigits(currency);
  if (decimals >= digits) return shift(minor * 10 ** (decimals - digits), decimals);
  const step = 10 ** (digits - decimals);
  if (minor % step !== 0) {
    throw new AmountPrecisionError(
      `${shift(minor, digits)} ${currency.toUpperCase()} needs ${digits} decimals; only ${decimals} can be sent`,
      currency.toUpperCase(),
    );
  }
  return shift(minor / step, decimals);
}

/** A decimal string → our minor units; refuses a malformed value or one finer than the minor unit. */
export function fromDecimalString(value: string, currency: string): number {
  if (!DECIMAL.test(value)) throw new RangeError(`Not a decimal amount: ${JSON.stringify(value)}`);
  const digits = minorUnitDigits(currency);
  const [whole = '', fraction = ''] = value.split('.');
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > digits) {
    throw new AmountPrecisionError(
      `${value} ${currency.toUpperCase()} has more decimals than its minor unit (${digits})`,
      currency.toUpperCase(),
    );
  }
  const minor = Number(`${whole || '0'}${significant.padEnd(digits, '0')}`);
  if (!Number.isSafeInteger(minor)) throw new RangeError(`Amount too large: ${value}`);
  return minor;
}

/** Decimals PayPal takes for `currency`; undefined when PayPal does not take the currency. */
export const paypalDecimals = (currency: string): 0 | 2 | undefined => PAYPAL_CURRENCY_DECIMALS[currency.toUpperCase()];

/** `1234, 'USD'` → `$12.34`, for pages and mail; the currency's own decimals. */
export function formatMoney(minor: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(
      minor / 10 ** minorUnitDigits(currency),
    );
  } catch {
    return `${minor} ${currency} (minor units)`;
  }
}
