import type { ApolloServerPlugin } from '@apollo/server';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { LimitExceededError } from '../../lib/errors';
import { canonicalOperation, sha256Hex, type PersistedOperations } from '../../lib/persisted-operations';

/**
 * GRAPHQL_PERSISTED_ONLY: only operations in the manifest run. A client sends the full text (any
 * layout) or, with the APQ protocol, only its sha256; the APQ cache answers from the manifest and
 * never learns new documents. Operations the gateway runs itself (the REST facade) have no HTTP
 * request and are not checked.
 */
export function persistedOnlyPlugin(manifest: PersistedOperations): ApolloServerPlugin {
  const allowed = new Set(Object.keys(manifest));
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!request.http || !operation) return;
          if (!allowed.has(sha256Hex(canonicalOperation(document, operation)))) {
            throw new LimitExceededError('PERSISTED_QUERY_REQUIRED', 'Only the operations of the published client manifest are accepted here');
          }
        },
      };
    },
  };
}

/** Apollo's APQ cache in persisted-only mode: reads the manifest, refuses to register anything. */
export function manifestApqCache(manifest: PersistedOperations): KeyValueCache<string> {
  const PREFIX = 'apq:'; // Apollo prefixes APQ keys
  return {
    async get(key) {
      return manifest[key.startsWith(PREFIX) ? key.slice(PREFIX.length) : key];
    },
    async set() {},
    async delete() {
      return false;
    },
  };
}
