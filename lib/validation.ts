import { Matches, validate, type ValidationError } from 'class-validator';
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
 * Characters no text input may hold: NUL and lone UTF-16 surrogates (PostgreSQL refuses them),
 * control characters other than tab and line breaks (C0, DEL, C1: they forge headers and log lines
 * and hide in what people read), and the bidirectional overrides and isolates, which reorder text
 * on screen.
 */
// biome-ignore-start lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// biome-ignore-end lint/suspicious/noControlCharactersInRegex: end of UNSAFE
/** Line breaks and tabs: fine in a description, not in a name, a title or anything that may reach a header. */
const LINE_BREAK = /[\t\r\n\u2028\u2029]/;
/** A URL or a bare domain (`evil.example`, `www.`, `scheme://`): not in a display name, which mail and pages show as trusted text. */
const LOOKS_LIKE_URL = /[a-z][a-z0-9+.-]*:\/\/|\bwww\.|[\p{L}\p{N}-]{2,}\.[a-z]{2,}\b/iu;

export const isSingleLine = (text: string): boolean => !LINE_BREAK.test(text);

/** class-validator: one line of text (no line breaks or tabs). */
export const SingleLine = (field: string, options: { each?: boolean } = {}) =>
  Matches(/^[^\t\r\n\u2028\u2029]*$/, {
    message: `${field} must be one line, without line breaks or tabs`,
    ...options,
  });

/** class-validator: no URL or domain name in it. */
export const NoUrl = (field: string) =>
  Matches(new RegExp(`^(?![^]*(?:${LOOKS_LIKE_URL.source}))`, 'iu'), {
    message: `${field} must not contain a web address`,
  });

/**
 * The path of the first string with a character no text input may hold (UNSAFE above).
 * Undefined when every string is fine.
 */
export function unsafeText(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return UNSAFE.test(value) ? path : undefined;
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
  if (unsafe !== undefined)
    throw new BadUserInputError({
      field: unsafe || 'value',
      message: `${unsafe || 'a value'} must be well-formed text without control characters`,
    });
  if (value === null || value === undefined || typeof value !== 'object') return;
  const targets = Array.isArray(value) ? value : [value];
  const problems: FieldProblem[] = [];
  for (const target of targets) {
    if (target && typeof target === 'object') {
      problems.push(
        ...problemsOf(
          await validate(target as object, {
            forbidUnknownValues: false,
            validationError: { target: false, value: false },
          }),
        ),
      );
    }
  }
  if (problems.length) throw new BadUserInputError(problems);
};
