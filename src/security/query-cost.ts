/**
 * Static cost of an operation, knowing its variables: every field costs 1; a field with a
 * `first` argument multiplies the cost of its selection by `first` (its default when absent);
 * a connection's `edges` are already counted by that `first`; other list fields multiply by
 * DEFAULT_LIST_SIZE; list arguments (bulk inputs) add
 * length / 100. The cost bounds the work a request can ask for (one query nesting three lists
 * of 100 costs over 1,000,000) and is what rate-limit budgets are counted in.
 */
import {
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLField, type GraphQLNamedType,
  type GraphQLSchema, getNamedType, getNullableType, isListType, isObjectType, isInterfaceType, Kind,
  type OperationDefinitionNode, OperationTypeNode, type SelectionSetNode, type ValueNode, valueFromASTUntyped,
} from 'graphql';

export const DEFAULT_LIST_SIZE = 10;

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> = {},
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const root =
    operation.operation === OperationTypeNode.QUERY ? schema.getQueryType() : operation.operation === OperationTypeNode.MUTATION ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) return 0;
  const visiting = new Set<string>();

  const selectionCost = (set: SelectionSetNode | undefined, type: GraphQLNamedType): number => {
    if (!set) return 0;
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) total += fieldCost(sel, type);
      else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) ?? type) : type;
        total += selectionCost(sel.selectionSet, t);
      } else {
        const frag = fragments.get(sel.name.value);
        // Cycles are rejected by validation; guard anyway so cost never recurses forever.
        if (!frag || visiting.has(frag.name.value)) continue;
        visiting.add(frag.name.value);
        total += selectionCost(frag.selectionSet, schema.getType(frag.typeCondition.name.value) ?? type);
        visiting.delete(frag.name.value);
      }
    }
    return total;
  };

  const fieldCost = (node: FieldNode, parent: GraphQLNamedType): number => {
    if (node.name.value.startsWith('__')) return 0;
    const def: GraphQLField<unknown, unknown> | undefined =
      isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[node.name.value] : undefined;
    if (!def) return 1;
    const args = new Map((node.arguments ?? []).map((a) => [a.name.value, argValue(a.value, variables)]));
    let bulk = 0;
    for (const v of args.values()) if (Array.isArray(v)) bulk += v.length / 100;
    const firstArg = def.args.find((a) => a.name === 'first');
    let multiplier = 1;
    if (firstArg) {
      const given = args.get('first');
      multiplier = typeof given === 'number' && given > 0 ? given : typeof firstArg.defaultValue === 'number' ? firstArg.defaultValue : 20;
    } else if (isListType(getNullableType(def.type)) && node.name.value !== 'edges') {
      multiplier = DEFAULT_LIST_SIZE;
    }
    return 1 + bulk + multiplier * selectionCost(node.selectionSet, getNamedType(def.type));
  };

  return Math.ceil(selectionCost(operation.selectionSet, root));
}

function argValue(node: ValueNode, variables: Record<string, unknown>): unknown {
  return valueFromASTUntyped(node, variables);
}
