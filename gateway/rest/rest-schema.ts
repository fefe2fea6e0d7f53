import { z } from 'zod/v4';
import { HttpError } from '../../lib/http';

/**
 * The pieces the REST facade's request and response schemas are built from. One zod schema per
 * request validates it (`parseRequest`) and, through `z.toJSONSchema`, documents it in
 * schema/openapi.json (gateway/rest/openapi.ts), so what is checked and what is documented cannot drift.
 */

/** JSON Schema key a REST enum carries until the document is built, naming the GraphQL enum its values come from. */
export const GRAPHQL_ENUM = 'x-graphql-enum';

/** What `GRAPHQL_ENUM` holds: the GraphQL enum, and how its values are spelled in REST. */
export interface RestEnumSource {
  name: string;
  /** GraphQL value → REST value where it is not the lowercase (SUCCEEDED → completed). */
  renames?: Record<string, string>;
  /** Keep the GraphQL spelling (ACTIVE) rather than the lowercase. */
  keepCase?: boolean;
}

/**
 * A GraphQL enum as the REST facade spells it: lowercase unless renamed. `rest` converts a value
 * for a response; the schema's values are read from the API schema when the document is built.
 */
export function restEnum(source: RestEnumSource, description: string) {
  const rest = (value: string): string => source.renames?.[value] ?? (source.keepCase ? value : value.toLowerCase());
  const meta = { description, [GRAPHQL_ENUM]: source };
  /** `schema` for an answer; `required` for a request (blank is missing; the graph refuses a value outside the enum). */
  return { rest, schema: z.string().meta(meta), required: z.string().trim().min(1).meta(meta) };
}

/** A required text field: missing or blank is "<field> is required". */
export const requiredText = (description: string) => z.string().trim().min(1).meta({ description });
export const dateTime = (description: string) => z.string().meta({ format: 'date-time', description });
/** Amounts are integers in the currency's minor units (cents). */
export const minorUnits = (description: string) =>
  z.number().int({ error: 'must be an integer (minor units)' }).meta({ description });

/** Why a value was refused, in words after the field's name; zod's own text otherwise. */
function restIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.input === undefined) return 'is required';
  if (issue.code === 'too_small' && issue.origin === 'string' && issue.minimum === 1) return 'is required';
  if (issue.code === 'invalid_type')
    return issue.expected === 'record' || issue.expected === 'object'
      ? 'must be an object'
      : `must be a ${issue.expected}`;
  return undefined;
}

/** The request validated by its schema, or 400 BAD_USER_INPUT naming the first field refused (its REST name). */
export function parseRequest<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input, { error: restIssue });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  throw new HttpError(400, field ? `${field} ${issue.message}` : issue.message, 'BAD_USER_INPUT', field || undefined);
}

/** The Idempotency-Key header of the endpoints that write (the body's idempotency_key wins over it). */
export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .meta({ description: 'Makes a retried request the same one; the same as idempotency_key in the body.' }),
});
