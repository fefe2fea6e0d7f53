import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { LimitExceededError } from '../../lib/errors';
import { measureOperation } from './operation-shape';

export interface OperationLimits {
  /** Deepest field nesting. @default 10 */
  maxDepth: number;
  /** Largest estimated cost (fields × page sizes). @default 10000 */
  maxCost: number;
  /** Most aliased fields in one operation. @default 15 */
  maxAliases: number;
  /** Page size assumed for a paginated field without `first`, and for an unpaginated list. @default 20 */
  defaultListSize: number;
}

/**
 * Refuses operations over the depth, cost and alias limits before any subgraph is called. Runs on
 * every request (cost depends on the variables), after Apollo parsed (under the token limit) and
 * validated the document.
 */
export function limitsPlugin(limits: OperationLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, schema, request }) {
          if (!operation) return;
          const shape = measureOperation(schema, document, operation, request.variables ?? {}, limits);
          if (shape.depth > limits.maxDepth) {
            throw new LimitExceededError('QUERY_TOO_DEEP', `Query depth ${shape.depth} exceeds the limit of ${limits.maxDepth}`, limits.maxDepth, shape.depth);
          }
          if (shape.aliases > limits.maxAliases) {
            throw new LimitExceededError('TOO_MANY_ALIASES', `${shape.aliases} aliases exceed the limit of ${limits.maxAliases}`, limits.maxAliases, shape.aliases);
          }
          if (shape.cost > limits.maxCost) {
            throw new LimitExceededError(
              'QUERY_TOO_COSTLY',
              `Query cost ${shape.cost} exceeds the limit of ${limits.maxCost}; ask for smaller pages (first) or fewer nested lists`,
              limits.maxCost,
              shape.cost,
            );
          }
        },
      };
    },
  };
}

const TOKEN_LIMIT_MESSAGE = /Document contains more tha[nt] (\d+) tokens/; // graphql 16 spells it "more that"

/**
 * graphql-js stops parsing at `parseOptions.maxTokens` with a syntax error; give it its own code so
 * a client can tell "too big" from "malformed".
 */
export function withTokenLimitCode(format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const match = formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' ? TOKEN_LIMIT_MESSAGE.exec(formatted.message) : null;
    if (!match) return format(formatted, error);
    const limit = Number(match[1]);
    return format({ message: `The document has more than ${limit} tokens`, extensions: { code: 'TOO_MANY_TOKENS', limit } }, error);
  };
}
