import { randomToken } from '../shared/ids';

export { randomToken } from '../shared/ids';

export const newId = (prefix: string, length = 24): string => `${prefix}_${randomToken(length)}`;
export const newRequestId = (): string => newId('req', 14);
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
