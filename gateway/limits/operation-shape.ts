import {
  Kind,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  valueFromAST,
  type DirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
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
  /** Directives used (`@include`, `@skip`, any other), counted at every spread. */
  directives: number;
  /** Whether the operation selects `__schema` or `__type`. */
  introspects: boolean;
  /** Selections the walk looked at: linear in the document, whatever the spreads (tests assert it). */
  visited: number;
  /** Set when the walk stopped early because this figure passed its limit: that figure is then a lower bound, the others 0. */
  stoppedAt?: keyof ShapeLimits;
}

/** Limits the walk stops at as soon as one is passed (the figures are then lower bounds). */
export interface ShapeLimits {
  depth: number;
  cost: number;
  aliases: number;
  directives: number;
}

export interface ShapeOptions {
  /** Multiplier of a paginated field called without a page size, and of an unpaginated list outside one. */
  defaultListSize: number;
  /** Stop walking when one of these is passed. @default no limit */
  stopAt?: Partial<ShapeLimits>;
}

/** What one selection set costs per instance of its parent type; fragments are measured once and reused. */
interface Summary {
  cost: number;
  /** Depth below the selection set's parent (a set of scalars is 1). */
  depth: number;
  aliases: number;
  directives: number;
  introspects: boolean;
}

const EMPTY: Summary = { cost: 0, depth: 0, aliases: 0, directives: 0, introspects: false };

class Stop extends Error {
  constructor(
    readonly limit: keyof ShapeLimits,
    /** The figure when the walk stopped: a lower bound of the whole. */
    readonly reached: number,
  ) {
    super(limit);
  }
}

/**
 * Measures an operation before it runs: depth, cost, aliases and directives, over the selections
 * the operation reaches (fragments included, each spread counted where it is used).
 *
 * Linear in the document: each fragment is summarised once per context (inside a page or not) and
 * the summary is reused at every spread, so a chain of fragments that each spread the next twice
 * costs one visit per selection, not 2^n. Figures multiply instead of re-walking; they may grow
 * huge (they are doubles) and are compared with the limits as they grow, so the walk stops at the
 * first figure past its limit. Variables are the coerced values (defaults applied); an argument
 * left out takes the schema's default.
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
  const stopAt: ShapeLimits = {
    depth: Infinity,
    cost: Infinity,
    aliases: Infinity,
    directives: Infinity,
    ...options.stopAt,
  };
  const memo = new Map<string, Summary | 'walking'>();
  let visited = 0;

  const check = (s: Summary, baseDepth: number) => {
    if (s.cost > stopAt.cost) throw new Stop('cost', s.cost);
    if (baseDepth + s.depth > stopAt.depth) throw new Stop('depth', baseDepth + s.depth);
    if (s.aliases > stopAt.aliases) throw new Stop('aliases', s.aliases);
    if (s.directives > stopAt.directives) throw new Stop('directives', s.directives);
  };
  const add = (into: Summary, part: Summary, times = 1, extraDepth = 0) => {
    into.cost += part.cost * times;
    into.depth = Math.max(into.depth, part.depth + extraDepth);
    into.aliases += part.aliases;
    into.directives += part.directives;
    into.introspects ||= part.introspects;
  };
  const directivesOf = (nodes: readonly DirectiveNode[] | undefined) => nodes?.length ?? 0;

  const pageSize = (
    field: GraphQLField<unknown, unknown>,
    selection: { arguments?: readonly { name: { value: string }; value: ValueNode }[] },
  ) => {
    for (const name of PAGE_SIZE_ARGUMENTS) {
      const declared = field.args.find((a) => a.name === name);
      if (!declared) continue;
      const given = selection.arguments?.find((a) => a.name.value === name);
      const value = given ? valueFromAST(given.value, declared.type, variables) : declared.defaultValue;
      if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
    }
    return undefined;
  };

  const fragmentSummary = (fragment: FragmentDefinitionNode, inPage: boolean, baseDepth: number): Summary => {
    const key = `${inPage ? 'p' : 'n'}:${fragment.name.value}`;
    const known = memo.get(key);
    if (known === 'walking') return EMPTY; // a cycle: validation refuses it; count it once
    if (known) return known;
    memo.set(key, 'walking');
    const type = schema.getType(fragment.typeCondition.name.value);
    const summary = type && isCompositeType(type) ? walk(fragment.selectionSet, type, inPage, baseDepth) : EMPTY;
    memo.set(key, summary);
    return summary;
  };

  // The summary of one instance of `parent` with this selection set.
  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, inPage: boolean, baseDepth: number): Summary => {
    const summary: Summary = { ...EMPTY };
    for (const selection of set.selections) {
      visited++;
      summary.directives += directivesOf(selection.directives);
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment) {
          summary.directives += directivesOf(fragment.directives);
          add(summary, fragmentSummary(fragment, inPage, baseDepth));
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        add(summary, walk(selection.selectionSet, type && isCompositeType(type) ? type : parent, inPage, baseDepth));
      } else {
        if (selection.alias) summary.aliases++; // per use: a fragment of aliases spread ten times is ten times the work
        const name = selection.name.value;
        if (name === '__schema' || name === '__type') summary.introspects = true;
        if (!name.startsWith('__')) {
          // __typename is free; introspection is refused (or allowed) as a whole
          if (baseDepth + 1 > stopAt.depth) throw new Stop('depth', baseDepth + 1); // before descending
          summary.depth = Math.max(summary.depth, 1);
          const field = 'getFields' in parent ? parent.getFields()[name] : undefined;
          if (!field || !selection.selectionSet) {
            summary.cost += 1;
          } else {
            const listed = isListType(getNullableType(field.type));
            const page = pageSize(field, selection);
            const paginated = field.args.some((a) => PAGE_SIZE_ARGUMENTS.includes(a.name));
            // The lists right inside a paginated field (a connection's edges, nodes) are bounded by its page size.
            const multiplier = paginated
              ? (page ?? options.defaultListSize)
              : listed && !inPage
                ? options.defaultListSize
                : 1;
            const child = getNamedType(field.type);
            const below = isCompositeType(child)
              ? walk(selection.selectionSet, child, paginated || (inPage && listed), baseDepth + 1)
              : EMPTY;
            summary.cost += 1;
            add(summary, below, multiplier, 1);
          }
        }
      }
      check(summary, baseDepth);
    }
    return summary;
  };

  const root = schema.getRootType(operation.operation);
  if (!root)
    return {
      depth: 0,
      cost: 0,
      aliases: 0,
      directives: directivesOf(operation.directives),
      introspects: false,
      visited,
    };
  try {
    const s = walk(operation.selectionSet, root, false, 0);
    return {
      depth: s.depth,
      cost: s.cost,
      aliases: s.aliases,
      directives: s.directives + directivesOf(operation.directives),
      introspects: s.introspects,
      visited,
    };
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const partial = { depth: 0, cost: 0, aliases: 0, directives: 0, [err.limit]: err.reached };
    return { ...partial, introspects: false, visited, stoppedAt: err.limit };
  }
}
