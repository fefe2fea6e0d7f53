import { isDeepStrictEqual } from 'node:util';
import { stopChild } from './children';
import type { RunningTarget, UnavailableTarget } from './targets';
import type { Workload } from './workloads';

/** One answer to a workload, as the load will see it. */
export interface Answer {
  status: number;
  bytes: number;
  body: { data?: unknown; errors?: unknown[] } | null;
}

export async function answerOf(target: RunningTarget, workload: Workload): Promise<Answer> {
  const res = await fetch(target.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ query: workload.query, variables: workload.variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: Answer['body'] = null;
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    /* reported by the caller as "not JSON" */
  }
  return { status: res.status, bytes: Buffer.byteLength(text), body };
}

const excerpt = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
};

/** The first place where two JSON values differ, as `path: expected … got …`; null when equal. */
export function firstDifference(expected: unknown, actual: unknown, at = '$'): string | null {
  if (isDeepStrictEqual(expected, actual)) return null;
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return `${at}: expected ${expected.length} items, got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const d = firstDifference(expected[i], actual[i], `${at}[${i}]`);
      if (d) return d;
    }
  }
  if (
    expected &&
    actual &&
    typeof expected === 'object' &&
    typeof actual === 'object' &&
    !Array.isArray(expected) &&
    !Array.isArray(actual)
  ) {
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) {
      const d = firstDifference(
        (expected as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
        `${at}.${key}`,
      );
      if (d) return d;
    }
  }
  return `${at}: expected ${excerpt(expected)}, got ${excerpt(actual)}`;
}

/**
 * Why an answer cannot be measured: not JSON, no data at all (the target does not serve this
 * supergraph), or too small to be the intended workload. Null when it can.
 */
export function unusable(answer: Answer, workload: Workload): string | null {
  if (!answer.body) return `HTTP ${answer.status}, body is not JSON`;
  if (answer.body.data === undefined || answer.body.data === null)
    return `HTTP ${answer.status}, no data: ${excerpt(answer.body.errors)}`;
  if (workload.minBytes && answer.bytes < workload.minBytes)
    return `answer is ${answer.bytes} bytes, under the ${workload.minBytes} expected`;
  return null;
}

/**
 * Each target's answer to each workload, compared with the first target's (the baseline): a
 * difference throws with where it is; a target that serves another graph (no data at all) is
 * stopped and set aside as unavailable.
 */
export async function verifyTargets(
  targets: RunningTarget[],
  workloads: readonly Workload[],
  unavailable: UnavailableTarget[],
): Promise<{ checked: RunningTarget[]; bytes: Record<string, number> }> {
  const [reference, ...others] = targets;
  if (!reference) throw new Error('no target started');
  const expected = new Map<string, unknown>();
  const bytes: Record<string, number> = {};
  for (const w of workloads) {
    const answer = await answerOf(reference, w);
    const problem =
      unusable(answer, w) ??
      (answer.body?.errors ? `errors: ${JSON.stringify(answer.body.errors).slice(0, 300)}` : null);
    if (problem) throw new Error(`${reference.name} cannot serve ${w.name}: ${problem}`);
    expected.set(w.name, answer.body);
    bytes[w.name] = answer.bytes;
  }
  const checked = [reference];
  for (const target of others) {
    let setAside: string | null = null;
    for (const w of workloads) {
      const answer = await answerOf(target, w);
      setAside = unusable(answer, w);
      if (setAside) break;
      const difference = firstDifference(expected.get(w.name), answer.body);
      if (difference)
        throw new Error(`${target.name} answers ${w.name} differently from ${reference.name}: ${difference}`);
    }
    if (setAside) {
      unavailable.push({
        name: target.name,
        unavailable: `cannot serve the benchmark's supergraph (SUPERGRAPH_PATH not honoured?): ${setAside}`,
      });
      await stopChild(target.child);
    } else checked.push(target);
  }
  return { checked, bytes };
}
