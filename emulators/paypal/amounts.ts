import { fromDecimalString, minorUnitDigits, paypalDecimals, toDecimalString } from '../../lib/currencies';
import { invalidRequest, unprocessable, type ErrorDetail } from './errors';

/** PayPal's `amount`: an ISO code and a decimal string in the currency's PayPal precision. */
export interface Money {
  currency_code: string;
  value: string;
}

/** PayPal's pattern for `value` (at most 32 characters). */
const VALUE = /^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$/;

/**
 * Checks `amount` the way PayPal does and returns it in minor units. Orders refuse bad precision
 * with 400 INVALID_REQUEST, refunds with 422 (PayPal's own split).
 */
export function parseAmount(
  input: unknown,
  field: string,
  precisionStatus: 400 | 422,
): { money: Money; minor: number } {
  const fail = (status: 400 | 422, issue: string, description: string, value?: string): never => {
    const detail: ErrorDetail = {
      field,
      issue,
      description,
      location: 'body',
      ...(value !== undefined ? { value } : {}),
    };
    throw status === 400
      ? invalidRequest(detail)
      : unprocessable(issue, description, { field, location: 'body', ...(value !== undefined ? { value } : {}) });
  };
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return fail(400, 'MISSING_REQUIRED_PARAMETER', 'A required field / parameter is missing.');
  const { currency_code: currency, value } = input as Record<string, unknown>;
  if (currency === undefined)
    return fail(400, 'MISSING_REQUIRED_PARAMETER', 'A required field / parameter is missing.', undefined);
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    return fail(400, 'INVALID_PARAMETER_VALUE', 'The value of a field is invalid.', String(currency));
  const decimals = paypalDecimals(currency);
  if (decimals === undefined)
    return fail(
      422,
      'CURRENCY_NOT_SUPPORTED',
      'Currency code is not currently supported. Please refer https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported currency codes.',
      currency,
    );
  if (value === undefined) return fail(400, 'MISSING_REQUIRED_PARAMETER', 'A required field / parameter is missing.');
  if (typeof value !== 'string' || value.length > 32 || !VALUE.test(value)) {
    return fail(
      400,
      'INVALID_PARAMETER_SYNTAX',
      'The value of a field does not conform to the expected format.',
      String(value),
    );
  }
  if (value.startsWith('-') || !/[1-9]/.test(value))
    return fail(
      422,
      'CANNOT_BE_ZERO_OR_NEGATIVE',
      'Must be greater than zero. If the currency supports decimals, only two decimal place precision is supported.',
      value,
    );
  const fraction = value.split('.')[1];
  if (decimals === 0 && fraction !== undefined)
    return fail(precisionStatus, 'DECIMALS_NOT_SUPPORTED', 'Currency does not support decimals.', value);
  if (fraction !== undefined && fraction.length > decimals) {
    return fail(
      precisionStatus,
      'DECIMAL_PRECISION',
      'If the currency supports decimals, only two decimal place precision is supported.',
      value,
    );
  }
  const minor = fromDecimalString(value, currency);
  return { money: money(minor, currency), minor };
}

/** Minor units → PayPal's string (`10.00`, `1000` for JPY). */
export const formatAmount = (minor: number, currency: string): string =>
  toDecimalString(minor, currency, paypalDecimals(currency) ?? 2);

export const money = (minor: number, currency: string): Money => ({
  currency_code: currency,
  value: formatAmount(minor, currency),
});

/** PayPal's fee on a capture or the share of it a refund returns: 3.49 % in the currency's PayPal precision. */
export function feeOf(minor: number, currency: string): number {
  const step = 10 ** Math.max(0, minorUnitDigits(currency) - (paypalDecimals(currency) ?? 2));
  return Math.round((minor * 0.0349) / step) * step;
}
