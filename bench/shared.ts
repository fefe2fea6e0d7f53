import { signEmailConfirmation } from '../lib/email-confirmation';

/** An emulator's `/__emulator/state` (what it holds and did): the ground truth a benchmark checks its answers against. */
export async function emulatorState<T>(baseUrl: string): Promise<T> {
  const url = `${baseUrl}/__emulator/state`;
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return (await res.json()) as T;
}

/** One GraphQL call that throws on any error (bench/run.ts `graphql`), as the scenarios take it. */
export type GraphQL = <T>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
) => Promise<T>;

const CONFIRM = `mutation Confirm($token: String!) { confirmEmail(token: $token) { id } }`;

/**
 * Confirms a user's address as the link in their welcome mail does (signed with the stack's
 * INTERNAL_SECRET): only confirmed addresses reach the CRM, so a benchmark user who is to be synced
 * must be confirmed.
 */
export async function confirmEmail(
  graphql: GraphQL,
  gatewayUrl: string,
  user: { id: string; email: string },
  internalSecret: string,
  headers: Record<string, string> = {},
): Promise<void> {
  await graphql(gatewayUrl, CONFIRM, { token: signEmailConfirmation(user.id, user.email, internalSecret) }, headers);
}

/** The `p`th percentile (0–100) of `values`, rounded, by nearest rank; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!) : 0;
}
