import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { mintToken, signViewerHeader, verifyViewerHeader, viewerFromAuthorization } from '../../../lib/auth';
import { LISTING_CATEGORIES } from '../../../lib/categories';
import { ConfigError, loadConfig } from '../../../lib/config';
import { DataDirLockedError, loadOrCreateDevSecrets, lockDataDir } from '../../../lib/data-dir';
import { createLogger } from '../../../lib/logger';
import { decodeCursor } from '../../../lib/pagination';
import { ListingCategory } from '../../../subgraphs/listings/entities/enums';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';

describe('hardening', () => {
  it('redacts secret keys at the top level and in headers of any case', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
    });
    logger.info(
      {
        password: 'pw-top',
        token: 'tok-top',
        Authorization: 'Bearer top',
        req: { headers: { Authorization: 'Bearer nested' } },
      },
      'x',
    );
    expect(lines.join('')).not.toMatch(/pw-top|tok-top|Bearer top|Bearer nested/);
  });

  it('refuses a second lock on the same folder from the same process', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-'));
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    release();
    expect(fs.readdirSync(dir)).toEqual([]);
    lockDataDir(dir)();
    fs.rmSync(dir, { recursive: true });
  });

  it('keeps secrets.json private even when it existed with loose permissions', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-'));
    fs.writeFileSync(path.join(dir, 'secrets.json'), '{}', { mode: 0o644 });
    loadOrCreateDevSecrets(dir);
    expect(fs.statSync(path.join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    fs.rmSync(dir, { recursive: true });
  });

  it('accepts the Bearer scheme in any case', async () => {
    const token = await mintToken({ secret: SECRET, userId: 'u1' });
    expect((await viewerFromAuthorization(`bearer ${token}`, { secret: SECRET })).userId).toBe('u1');
  });

  it('accepts only the canonical signature of the internal header, and refuses signed junk', () => {
    const request = { audience: 'listings', path: '/graphql', body: '{}' };
    const header = signViewerHeader({ userId: 'u1', roles: ['user'] }, request, SECRET, 60);
    for (const variant of [`${header}!`, `${header}=`, `${header}A`]) {
      expect(() => verifyViewerHeader(variant, request, SECRET)).toThrow(
        expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } }),
      );
    }
    for (const payload of [
      'null',
      '{"sub":"u1","roles":"admin","exp":4102444800}',
      '{"sub":5,"roles":[],"exp":4102444800}',
    ]) {
      const body = `v2.${Buffer.from(payload).toString('base64url')}`;
      const signed = `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
      expect(() => verifyViewerHeader(signed, request, SECRET)).toThrow(
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) }),
      );
    }
  });

  it('refuses cursors whose time is not an ISO string', () => {
    const uuid = '0b7a4a8e-3f65-4a39-9a43-0d2b1a2c3d4e';
    for (const raw of [
      [0, uuid],
      [null, uuid],
    ]) {
      expect(() => decodeCursor(Buffer.from(JSON.stringify(raw)).toString('base64url'))).toThrow(
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
      );
    }
  });

  it('treats whitespace-only values as unset and refuses fees for unknown categories', () => {
    expect(loadConfig({ GATEWAY_PORT: '  ' }).GATEWAY_PORT).toBe(4000);
    expect(() => loadConfig({ POSTING_FEES: '{"JOB":0}' })).toThrow(ConfigError);
    expect(() => loadConfig({ POSTING_FEES: '{"JOB":0}' })).toThrow(/POSTING_FEES: unknown categories JOB/);
    expect(loadConfig({ POSTING_FEES: '{"JOBS":0}' }).POSTING_FEES).toEqual({ JOBS: 0 });
  });

  it('keeps the GraphQL category enum and the shared category list identical', () => {
    expect(Object.values(ListingCategory).sort()).toEqual([...LISTING_CATEGORIES].sort());
  });
});
