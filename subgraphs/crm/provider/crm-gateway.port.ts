/** What the CRM service needs from a CRM, in our terms. HubSpot is the implementation. */
export interface UpsertResult {
  email: string;
  id: string;
  created: boolean;
}
export interface UpsertFailure {
  email: string | null;
  message: string;
}
export interface CrmContact {
  id: string;
  properties: Record<string, string | null>;
  updatedAt: Date | null;
}

export interface CrmGateway {
  /** Creates our custom contact properties that do not exist yet (idempotent). */
  ensureProperties(): Promise<void>;
  /** Upserts up to 100 contacts by email in one call; per-item failures come back, they do not throw. */
  upsertByEmail(contacts: Array<Record<string, string>>, attempt: number): Promise<{ results: UpsertResult[]; failures: UpsertFailure[] }>;
  /** Reads up to 100 contacts by CRM id in one call; unknown ids are simply absent. */
  readByIds(ids: string[], attempt: number): Promise<Map<string, CrmContact>>;
  /** Worth another attempt (network, timeout, 5xx, 429). */
  isTransient(error: unknown): boolean;
  /** Transient and a sign the CRM is unwell (counts towards the circuit breaker). */
  isOutage(error: unknown): boolean;
}

export const MAX_BATCH = 100;
