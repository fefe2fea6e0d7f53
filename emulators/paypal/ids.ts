import { randomToken } from '../shared/ids';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Orders, captures and refunds: 17 upper-case letters and digits (`5O190127TN364715T`). */
export const newResourceId = (): string => randomToken(17, UPPER);
/** `paypal-debug-id`: 13 lower-case hex digits. */
export const newDebugId = (): string => randomToken(13, '0123456789abcdef');
export const newPayerId = (): string => randomToken(13, UPPER);
/** Webhook events: `WH-<17>-<17>`. */
export const newEventId = (): string => `WH-${randomToken(17, UPPER)}-${randomToken(17, UPPER)}`;
/** Access tokens: opaque, the shape of PayPal's `A21AA…`. */
export const newAccessToken = (): string =>
  `A21AA${randomToken(92, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')}`;
export const isoNow = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
