import { pathMatches } from './html';

/** What every emulator's faults have: `times` = how many matching requests or events it applies to (default 1). */
export interface BaseFault {
  kind: string;
  times?: number;
  /** A path prefix filter, for the faults that apply to requests. */
  path?: string;
}

/** A fault still in force, with how many more times it applies. */
export type ActiveFault<F extends BaseFault> = F & { remaining: number };

export class FaultValidationError extends Error {}

/**
 * The checks every fault shares (kind among `kinds`, `times`, `path`, and the kinds every emulator
 * means alike: `server_error`'s status, `hang`'s ms); returns the fault as a record for the
 * emulator's own checks.
 */
export function checkFault(item: unknown, where: string, kinds: readonly string[]): Record<string, unknown> {
  if (item === null || typeof item !== 'object' || Array.isArray(item))
    throw new FaultValidationError(`${where} must be an object`);
  const fault = item as Record<string, unknown>;
  if (!kinds.includes(fault.kind as string))
    throw new FaultValidationError(`${where}.kind must be one of ${kinds.join(', ')}`);
  if (fault.times !== undefined && !(Number.isInteger(fault.times) && (fault.times as number) > 0)) {
    throw new FaultValidationError(`${where}.times must be a positive integer`);
  }
  if (fault.path !== undefined && !(typeof fault.path === 'string' && fault.path.startsWith('/'))) {
    throw new FaultValidationError(`${where}.path must be a path starting with /`);
  }
  if (
    fault.kind === 'server_error' &&
    fault.status !== undefined &&
    ![500, 502, 503].includes(fault.status as number)
  ) {
    throw new FaultValidationError(`${where}.status must be 500, 502 or 503`);
  }
  if (fault.kind === 'hang' && !(typeof fault.ms === 'number' && Number.isFinite(fault.ms) && fault.ms >= 0)) {
    throw new FaultValidationError(`${where}.ms must be a number of milliseconds`);
  }
  return fault;
}

/**
 * The faults an emulator has switched on, consumed one use at a time. `validate` is the emulator's
 * own check (it throws FaultValidationError); a fault without `path` applies under `defaultPath`.
 */
export function createFaultBook<F extends BaseFault>(validate: (input: unknown) => F[], defaultPath: string) {
  type Kind = F['kind'];
  let active: ActiveFault<F>[] = [];

  function take<K extends Kind>(kinds: readonly K[], path?: string): ActiveFault<Extract<F, { kind: K }>> | undefined {
    const found = active.find(
      (fault) =>
        (kinds as readonly string[]).includes(fault.kind) &&
        (path === undefined || pathMatches(path, fault.path ?? defaultPath)),
    );
    if (!found) return undefined;
    found.remaining -= 1;
    if (found.remaining <= 0) active = active.filter((fault) => fault !== found);
    return found as ActiveFault<Extract<F, { kind: K }>>;
  }

  return {
    set(faults: F[]): void {
      active = validate(faults).map((fault) => ({ ...fault, remaining: fault.times ?? 1 }));
    },
    clear(): void {
      active = [];
    },
    list(): ActiveFault<F>[] {
      return active.map((fault) => ({ ...fault }));
    },
    /** Consumes one use of the first fault of these kinds whose path matches, if any. */
    take,
    /**
     * For out-of-order delivery (a fault of kind `kind`): which batch this event joins (the fault
     * itself identifies it) and whether this event fills it.
     */
    takeHold(kind: Kind): { batch: object; last: boolean } | undefined {
      const fault = take([kind]);
      return fault ? { batch: fault, last: fault.remaining <= 0 } : undefined;
    },
  };
}
