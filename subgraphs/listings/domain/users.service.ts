import { randomUUID } from 'node:crypto';
import { and, count, desc, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import { isAdmin, type Viewer } from '../../../lib/auth';
import type { Database, Executor } from '../../../lib/db';
import {
  AppError,
  BadUserInputError,
  ConflictError,
  ErrorCode,
  ForbiddenError,
  NotFoundError,
  PG_UNIQUE_VIOLATION,
  pgErrorCode,
} from '../../../lib/errors';
import type { FixedWindowLimiter } from '../../../lib/rate-limiter';
import { verifyEmailConfirmation } from '../../../lib/email-confirmation';
import type { EventBus } from '../../../lib/events';
import { users, type UserRow } from '../db/schema';
import { isUuid } from '../../../lib/ids';
import { authorize } from '../../../lib/permissions';
import { keysetAfter, toPage, type KeysetCursor, type Page } from '../../../lib/pagination';

export interface RegisterUserData {
  name: string;
  email: string;
}
export type UpdateUserData = Partial<RegisterUserData>;
export interface RequestMeta {
  requestId?: string;
}

/** Confirming an address another account confirmed first (only the mailbox's owner holds the link, so saying so tells no one else). */
const CONFIRMED_ELSEWHERE = {
  field: 'token',
  message: 'this address has been confirmed for another SayPro account; sign in with that one',
};

/** Users: registration and profile changes, each with its event in the same transaction. */
export class UsersService {
  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    /** Registrations and address changes naming one address (lower-cased), so no address is tried or mailed without end. */
    private readonly perAddress?: FixedWindowLimiter,
  ) {}

  private countAddress(email: string): void {
    const wait = this.perAddress?.take(email.trim().toLowerCase()) ?? 0;
    if (wait > 0)
      throw new AppError(
        ErrorCode.RATE_LIMITED,
        `Too many registrations or changes with this address; try again in ${wait} seconds`,
        { retryAfterSeconds: wait },
      );
  }

  /** Rows for the given ids, in any order; malformed ids simply match nothing. */
  async byIds(ids: readonly string[]): Promise<UserRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select().from(users).where(inArray(users.id, valid));
  }

  /** Every user, newest first, a page at a time, with the total: a back office, the CRM's bulk sync (permission user.list). */
  async page(viewer: Viewer, limit: number, after?: KeysetCursor): Promise<{ page: Page<UserRow>; total: number }> {
    authorize(viewer, 'user.list');
    const where = after ? keysetAfter(users.createdAt, users.id, after) : undefined;
    const [rows, [total]] = await Promise.all([
      this.db
        .select()
        .from(users)
        .where(where)
        .orderBy(desc(users.createdAt), desc(users.id))
        .limit(limit + 1),
      this.db.select({ n: count() }).from(users),
    ]);
    return { page: toPage(rows, limit), total: Number(total?.n ?? 0) };
  }

  /**
   * Anyone may register. A signed-in caller whose token subject has no user yet registers that
   * identity (the id becomes the token's subject); an admin registers someone new.
   *
   * The answer is the same whether or not another account has the address: the new user holds it
   * unconfirmed, and the mail to the address says what happened (a confirmation link, or that the
   * address already belongs to an account). So registration tells no one which addresses are taken.
   */
  async register(viewer: Viewer, data: RegisterUserData, meta: RequestMeta = {}): Promise<UserRow> {
    const linkIdentity = viewer.userId !== null && !isAdmin(viewer);
    if (linkIdentity && !isUuid(viewer.userId!))
      throw new ForbiddenError('This identity cannot register: its subject is not a user id');
    this.countAddress(data.email);
    const id = linkIdentity ? viewer.userId! : randomUUID();
    const now = new Date();
    const row: UserRow = {
      id,
      name: data.name.trim(),
      email: data.email.trim(),
      emailVerifiedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    return this.db.transaction(async (tx) => {
      if (linkIdentity && (await this.find(tx, id))) throw new ConflictError('You are already registered', { id });
      const addressInUse = await this.confirmedByAnother(tx, row.email, id);
      await tx.insert(users).values(row);
      await this.bus.publish(tx, 'user.created', { userId: id, name: row.name, email: row.email, addressInUse }, meta);
      return row;
    });
  }

  /** The user themself or an admin may change a profile. A new address is held unconfirmed, as at registration. */
  async update(viewer: Viewer, id: string, data: UpdateUserData, meta: RequestMeta = {}): Promise<UserRow> {
    authorize(viewer, 'user.update', id);
    const changes: Partial<UserRow> = {};
    if (data.name !== undefined) changes.name = data.name.trim();
    if (data.email !== undefined) changes.email = data.email.trim();
    if (Object.keys(changes).length === 0)
      throw new BadUserInputError({ field: 'input', message: 'Give at least one field to change' });
    return this.db.transaction(async (tx) => {
      const current = await this.find(tx, id, true);
      if (!current) throw new NotFoundError('User', id);
      const changed = (Object.keys(changes) as Array<keyof UserRow>).filter((k) => changes[k] !== current[k]);
      if (changed.length === 0) return current;
      // A new address counts once its owner confirms it (the email service mails the link, or says the address is taken).
      const newAddress = changes.email !== undefined && changes.email.toLowerCase() !== current.email.toLowerCase();
      if (newAddress) this.countAddress(changes.email!);
      const addressInUse = newAddress && (await this.confirmedByAnother(tx, changes.email!, id));
      const [updated] = await tx
        .update(users)
        .set({ ...changes, ...(newAddress ? { emailVerifiedAt: null } : {}), updatedAt: new Date() })
        .where(eq(users.id, id))
        .returning();
      await this.bus.publish(
        tx,
        'user.updated',
        { userId: id, changed, ...(newAddress ? { email: changes.email!, addressInUse } : {}) },
        meta,
      );
      return updated!;
    });
  }

  /**
   * The link in the welcome or confirmation mail: anyone holding it may use it (it is the proof).
   * Confirms the address the user has now; a link for an earlier address is invalid. Idempotent.
   */
  async confirmEmail(token: string, secret: string, meta: RequestMeta = {}): Promise<UserRow> {
    return this.confirmedOnce(() =>
      this.db.transaction(async (tx) => {
        const verified = await verifyEmailConfirmation(
          token,
          secret,
          async (userId) => (await this.find(tx, userId, true))?.email ?? null,
        );
        if ('refused' in verified) {
          const message =
            verified.refused === 'expired'
              ? 'this confirmation link has expired: change the address again to get a new one'
              : 'this confirmation link is not valid (or is for an earlier address)';
          throw new BadUserInputError({ field: 'token', message }, 'token');
        }
        const current = (await this.find(tx, verified.userId))!;
        if (current.emailVerifiedAt) return current;
        // The unique index over confirmed addresses settles two accounts confirming one address at once.
        if (await this.confirmedByAnother(tx, current.email, current.id))
          throw new BadUserInputError(CONFIRMED_ELSEWHERE, 'token');
        const [updated] = await tx
          .update(users)
          .set({ emailVerifiedAt: new Date(), updatedAt: new Date() })
          .where(eq(users.id, current.id))
          .returning();
        await this.bus.publish(tx, 'user.updated', { userId: current.id, changed: ['emailVerifiedAt'] }, meta);
        return updated!;
      }),
    );
  }

  async find(tx: Executor, id: string, forUpdate = false): Promise<UserRow | undefined> {
    if (!isUuid(id)) return undefined;
    const query = tx.select().from(users).where(eq(users.id, id));
    const [row] = forUpdate ? await query.for('update') : await query;
    return row;
  }

  /** Two accounts confirming one address at the same moment: the unique index decides, the loser is told. */
  private async confirmedOnce<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw new BadUserInputError(CONFIRMED_ELSEWHERE, 'token');
      throw err;
    }
  }

  /** Whether an account other than `id` has confirmed `email`. */
  private async confirmedByAnother(tx: Executor, email: string, id: string): Promise<boolean> {
    const [owner] = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(sql`lower(${users.email}) = lower(${email})`, isNotNull(users.emailVerifiedAt), ne(users.id, id)));
    return owner !== undefined;
  }
}
