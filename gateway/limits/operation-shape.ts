import {
  Kind,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** Arguments that bound the size of a list; their value multiplies the cost of what is below. */
export const PAGE_SIZE_ARGUMENTS = ['first', 'last', 'limit'];

export interface OperationShape {
  /** Deepest field nesting (a top-level field is depth 1). Introspection fields are not counted. */
  depth: number;
  /** Estimated fields resolved: every field costs 1, times the page sizes of the lists above it. */
  cost: number;
  /** Aliased fields in the operation and the fragments it uses, counted at every spread. */
  aliases: number;
}

export interface ShapeOptions {
  /** Multiplier of a paginated field called without a page size, and of an unpaginated list outside one. */
  defaultListSize: number;
}

function argumentValue(node: ValueNode, variables: Record<string, unknown>): unknown {
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.INT) return Number(node.value);
  return undefined;
}

/**
 * Measures an operation before it runs: depth, cost and aliases, over the selections the
 * operation reaches (fragments included, each spread counted where it is used). Pure and cheap:
 * one walk of the document, bounded by the token limit that parsing enforced.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  options: ShapeOptions,
): OperationShape {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  let maxDepth = 0;
  let aliases = 0;

  const root = schema.getRootType(operation.operation);
  if (!root) return { depth: 0, cost: 0, aliases: 0 };

  // Returns the cost of one instance of `parent` with this selection set.
  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, depth: number, inPage: boolean, seen: Set<string>): number => {
    let cost = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || seen.has(fragment.name.value)) continue; // validation refuses cycles; be safe anyway
        const type = schema.getType(fragment.typeCondition.name.value);
        if (!type || !(isObjectType(type) || isInterfaceType(type) || type.astNode?.kind === Kind.UNION_TYPE_DEFINITION)) continue;
        cost += walk(fragment.selectionSet, type as GraphQLCompositeType, depth, inPage, new Set([...seen, fragment.name.value]));
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        cost += walk(selection.selectionSet, (type ?? parent) as GraphQLCompositeType, depth, inPage, seen);
        continue;
      }
      if (selection.alias) aliases++; // per use: a fragment of aliases spread ten times is ten times the work
      const name = selection.name.value;
      if (name.startsWith('__')) continue; // __typename is free; introspection is off in production
      const field = 'getFields' in parent ? parent.getFields()[name] : undefined;
      const fieldDepth = depth + 1;
      maxDepth = Math.max(maxDepth, fieldDepth);
      if (!field || !selection.selectionSet) {
        cost += 1;
        continue;
      }
      const pageArg = selection.arguments?.find((a) => PAGE_SIZE_ARGUMENTS.includes(a.name.value));
      const declaresPage = field.args.some((a) => PAGE_SIZE_ARGUMENTS.includes(a.name));
      let multiplier = 1;
      if (declaresPage) {
        const given = pageArg ? argumentValue(pageArg.value, variables) : undefined;
        multiplier = typeof given === 'number' && Number.isFinite(given) && given > 0 ? given : options.defaultListSize;
      } else if (isListType(getNullableType(field.type)) && !inPage) {
        multiplier = options.defaultListSize;
      }
      const child = getNamedType(field.type) as GraphQLCompositeType;
      // The lists right inside a paginated field (a connection's edges, nodes) are bounded by its page size.
      const isList = isListType(getNullableType(field.type));
      cost += 1 + multiplier * walk(selection.selectionSet, child, fieldDepth, declaresPage || (inPage && isList), seen);
    }
    return cost;
  };

  const cost = walk(operation.selectionSet, root, 0, false, new Set());
  return { depth: maxDepth, cost, aliases };
}
