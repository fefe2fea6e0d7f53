import { validate, type ValidationError } from 'class-validator';
import type { ValidatorFn } from 'type-graphql';
import { BadUserInputError, type FieldProblem } from './errors';

function collect(errors: ValidationError[], prefix: string, out: FieldProblem[]): void {
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) out.push({ field, message });
    if (error.children?.length) collect(error.children, field, out);
  }
}

/** Turns class-validator's messages ("title must be shorter…") into our BAD_USER_INPUT with field paths. */
export function problemsOf(errors: ValidationError[]): FieldProblem[] {
  const out: FieldProblem[] = [];
  collect(errors, '', out);
  return out;
}

/**
 * The path of the first string that PostgreSQL (and every sane consumer) refuses: one with a NUL
 * character or a lone UTF-16 surrogate. Undefined when every string is fine.
 */
export function unsafeText(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 20 || value instanceof Date) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = unsafeText(item, Array.isArray(value) ? path : path ? `${path}.${key}` : key, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * type-graphql `validateFn`: validates every input object argument with class-validator and
 * answers BAD_USER_INPUT naming each offending field, before the resolver runs (so nothing is
 * written). Scalars and enums are already checked by GraphQL itself.
 */
export const validateArguments: ValidatorFn = async (value) => {
  const unsafe = unsafeText(value, '');
  if (unsafe !== undefined) throw new BadUserInputError({ field: unsafe || 'value', message: `${unsafe || 'a value'} must be well-formed text without NUL characters` });
  if (value === null || value === undefined || typeof value !== 'object') return;
  const targets = Array.isArray(value) ? value : [value];
  const problems: FieldProblem[] = [];
  for (const target of targets) {
    if (target && typeof target === 'object') {
      problems.push(...problemsOf(await validate(target as object, { forbidUnknownValues: false, validationError: { target: false, value: false } })));
    }
  }
  if (problems.length) throw new BadUserInputError(problems);
};
