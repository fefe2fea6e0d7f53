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
 * type-graphql `validateFn`: validates every input object argument with class-validator and
 * answers BAD_USER_INPUT naming each offending field, before the resolver runs (so nothing is
 * written). Scalars and enums are already checked by GraphQL itself.
 */
export const validateArguments: ValidatorFn = async (value) => {
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
