import { createHash } from 'node:crypto';
import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';

/** The manifest of operations the gateway accepts when GRAPHQL_PERSISTED_ONLY is on: sha256 → document. */
export type PersistedOperations = Record<string, string>;

/**
 * One operation and the fragments it uses, printed in a fixed order (the operation, then its
 * fragments by name). Formatting, comments and unused definitions do not change it, so a client
 * may send the text in any layout, or only its hash.
 */
export function canonicalOperation(document: DocumentNode, operation: OperationDefinitionNode): string {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const used = new Map<string, FragmentDefinitionNode>();
  const collect = (node: DefinitionNode) =>
    visit(node, {
      FragmentSpread(spread) {
        const fragment = fragments.get(spread.name.value);
        if (fragment && !used.has(fragment.name.value)) {
          used.set(fragment.name.value, fragment);
          collect(fragment);
        }
      },
    });
  collect(operation);
  const sorted = [...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value));
  return print({ kind: Kind.DOCUMENT, definitions: [operation, ...sorted] });
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** The manifest entries of every operation in these GraphQL sources (the generated client's documents). */
export function persistedOperationsOf(sources: string[]): PersistedOperations {
  const all = parse(sources.join('\n'));
  const manifest: PersistedOperations = {};
  for (const def of all.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const text = canonicalOperation(all, def);
    manifest[sha256Hex(text)] = text;
  }
  return Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
}
