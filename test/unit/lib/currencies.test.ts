import {
  AmountPrecisionError,
  formatMoney,
  fromDecimalString,
  minorUnitDigits,
  paypalDecimals,
  toDecimalString,
} from '../../../lib/currencies';

describe('currencies: minor units ↔ decimal strings', () => {
  it.each([
    [1234, 'USD', undefined, '12.34'],
    [5, 'USD', undefined, '0.05'],
    [0, 'EUR', undefined, '0.00'],
    [1500, 'JPY', undefined, '1500'],
    [1234, 'KWD', undefined, '1.234'],
    [150_000, 'HUF', 0, '1500'],
    [120_000, 'TWD', 0, '1200'],
    [1500, 'JPY', 2, '1500.00'],
  ])('%i %s with %s decimals → %s', (minor, currency, decimals, expected) => {
    expect(toDecimalString(minor, currency, decimals)).toBe(expected);
  });

  it('refuses what the target precision cannot carry, and bad amounts', () => {
    expect(() => toDecimalString(150_050, 'HUF', 0)).toThrow(AmountPrecisionError);
    expect(() => toDecimalString(-1, 'USD')).toThrow(RangeError);
    expect(() => toDecimalString(1.5, 'USD')).toThrow(RangeError);
    expect(() => minorUnitDigits('US')).toThrow(RangeError);
  });

  it.each([
    ['12.34', 'USD', 1234],
    ['12.3', 'USD', 1230],
    ['12', 'USD', 1200],
    ['.5', 'USD', 50],
    ['12.300', 'USD', 1230],
    ['1500', 'JPY', 1500],
    ['1500', 'HUF', 150_000],
  ])('%s %s → %i', (value, currency, expected) => {
    expect(fromDecimalString(value, currency)).toBe(expected);
  });

  it('refuses decimals finer than the minor unit and anything that is not a decimal', () => {
    expect(() => fromDecimalString('12.345', 'USD')).toThrow(AmountPrecisionError);
    expect(() => fromDecimalString('1.5', 'JPY')).toThrow(AmountPrecisionError);
    for (const bad of ['', '-1', '1e3', '1,00', ' 1', '0x10'])
      expect(() => fromDecimalString(bad, 'USD')).toThrow(RangeError);
  });

  it('knows ISO 4217 digits (not CLDR’s) and PayPal’s own decimals', () => {
    expect(['USD', 'HUF', 'TWD', 'JPY', 'CLP', 'KWD'].map(minorUnitDigits)).toEqual([2, 2, 2, 0, 0, 3]);
    expect(['USD', 'HUF', 'TWD', 'JPY', 'ZAR'].map(paypalDecimals)).toEqual([2, 0, 0, 0, undefined]);
    expect([formatMoney(2500, 'USD'), formatMoney(1500, 'JPY')]).toEqual(['$25.00', '¥1,500']);
  });
});
