import type http from 'node:http';
import { sendJson } from '../../lib/http';

export interface FaultAdmin<F> {
  /** Reads the request body as JSON. */
  readBody: () => Promise<unknown>;
  /** Validates one fault (throws an HttpError(400) for a bad one). */
  parse: (value: unknown) => F;
  set: (faults: F[]) => void;
  clear: () => void;
  reset: () => void;
  /** The active faults as the state shows them. */
  current: () => unknown;
}

/**
 * The admin routes every emulator shares: `POST /__emulator/faults` (a list, `{ faults: [...] }`
 * or one fault), `DELETE /__emulator/faults` and `POST /__emulator/reset`. True when it answered.
 */
export async function handleFaultRoutes<F>(
  method: string,
  path: string,
  res: http.ServerResponse,
  admin: FaultAdmin<F>,
): Promise<boolean> {
  if (path === '/__emulator/faults' && method === 'DELETE') {
    admin.clear();
    sendJson(res, 200, { faults: [] });
    return true;
  }
  if (path === '/__emulator/faults' && method === 'POST') {
    const body = await admin.readBody();
    const faults = (body as { faults?: unknown })?.faults;
    const list = Array.isArray(body) ? body : Array.isArray(faults) ? faults : [body];
    admin.set(list.map(admin.parse));
    sendJson(res, 200, { faults: admin.current() });
    return true;
  }
  if (path === '/__emulator/reset' && method === 'POST') {
    admin.reset();
    sendJson(res, 200, { ok: true });
    return true;
  }
  return false;
}
