import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { API_KEY_SCOPES, type ApiKeyScope, type Viewer } from '../../../lib/auth';
import type { Database } from '../../../lib/db';
import { BadUserInputError, ConflictError, NotFoundError } from '../../../lib/errors';
import { isUuid } from '../../../lib/ids';
import type { Logger } from '../../../lib/logger';
import { authorize } from '../../../lib/permissions';
import { isSingleLine } from '../../../lib/validation';
import { apiKeys, type ApiKeyRow } from '../db/schema';

/** `sp_live_` in production, `sp_test_` elsewhere, then 43 base64url characters (256 random bits). */
export const API_KEY_FORMAT = /^sp_(live|test)_[A-Za-z0-9_-]{43}$/;
const hashOf = (key: string) => createHash('sha256').update(key).digest('hex');

/** API keys: admins create (shown once), list and revoke them; the gateway verifies presented keys. */
export class ApiKeysService {
  constructor(
    private readonly db: Database,
    private readonly options: { live: boolean; logger: Logger },
  ) {}

  async create(
    viewer: Viewer,
    name: string,
    scopes: readonly ApiKeyScope[],
  ): Promise<{ row: ApiKeyRow; secret: string }> {
    authorize(viewer, 'apiKey.manage');
    const trimmed = name.trim();
    if (trimmed.length < 3 || trimmed.length > 100)
      throw new BadUserInputError({ field: 'name', message: 'name must be 3 to 100 characters' }, 'name');
    if (!isSingleLine(trimmed))
      throw new BadUserInputError(
        { field: 'name', message: 'name must be one line, without line breaks or tabs' },
        'name',
      );
    const unique = [...new Set(scopes)].filter((s) => API_KEY_SCOPES.includes(s));
    if (unique.length === 0)
      throw new BadUserInputError({ field: 'scopes', message: 'give the key at least one scope' }, 'scopes');
    const secret = `sp_${this.options.live ? 'live' : 'test'}_${randomBytes(32).toString('base64url')}`;
    const row: ApiKeyRow = {
      id: randomUUID(),
      name: trimmed,
      prefix: secret.slice(0, 12),
      hash: hashOf(secret),
      scopes: unique,
      createdBy: viewer.userId,
      createdAt: new Date(),
      revokedAt: null,
    };
    await this.db.insert(apiKeys).values(row);
    this.options.logger.info(
      { apiKeyId: row.id, prefix: row.prefix, scopes: row.scopes, by: viewer.userId },
      'api key created',
    );
    return { row, secret };
  }

  async list(viewer: Viewer): Promise<ApiKeyRow[]> {
    authorize(viewer, 'apiKey.manage');
    return this.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
  }

  async revoke(viewer: Viewer, id: string): Promise<ApiKeyRow> {
    authorize(viewer, 'apiKey.manage');
    if (!isUuid(id)) throw new NotFoundError('ApiKey', id);
    const [row] = await this.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (row) {
      this.options.logger.info({ apiKeyId: row.id, prefix: row.prefix, by: viewer.userId }, 'api key revoked');
      return row;
    }
    const [existing] = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    if (!existing) throw new NotFoundError('ApiKey', id);
    throw new ConflictError('This API key is already revoked', { id });
  }

  /** The live key with this secret, or null (unknown, malformed or revoked). */
  async verify(secret: string): Promise<{ id: string; scopes: ApiKeyScope[] } | null> {
    if (!API_KEY_FORMAT.test(secret)) return null;
    const [row] = await this.db
      .select({ id: apiKeys.id, scopes: apiKeys.scopes })
      .from(apiKeys)
      .where(and(eq(apiKeys.hash, hashOf(secret)), isNull(apiKeys.revokedAt)));
    return row ? { id: row.id, scopes: API_KEY_SCOPES.filter((s) => row.scopes.includes(s)) } : null;
  }
}
