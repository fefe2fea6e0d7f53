/** What the CRM service needs from a CRM, in our terms. HubSpot is the implementation. */
export interface UpsertResult {
  /** Our user id, the contact's `saypro_user_id`. */
  userId: string;
  id: string;
  created: boolean;
}
export interface UpsertFailure {
  userId: string | null;
  message: string;
  /** The address belongs to another contact (not ours, or another user's): it is never adopted. */
  conflict: boolean;
}
export interface CrmContact {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: Date | null;
}

export interface CrmGateway {
  /** Creates our custom contact properties that do not exist yet (idempotent). */
  ensureProperties(): Promise<void>;
  /**
   * Upserts up to 100 contacts by our user id (`saypro_user_id`, a unique property) in one call, so
   * a user's contact is theirs whatever its address, and an address that another contact holds is
   * a conflict, never an adoption. Per-item failures come back, they do not throw.
   */
  upsertByUserId(
    contacts: Array<Record<string, string>>,
    attempt: number,
  ): Promise<{ results: UpsertResult[]; failures: UpsertFailure[] }>;
  /** Reads up to 100 contacts by CRM id in one call; unknown ids are simply absent. */
  readByIds(ids: string[], attempt: number): Promise<Map<string, CrmContact>>;
  /** Worth another attempt (network, timeout, 5xx, 429). */
  isTransient(error: unknown): boolean;
  /** Transient and a sign the CRM is unwell (counts towards the circuit breaker). */
  isOutage(error: unknown): boolean;
}

export const MAX_BATCH = 100;
