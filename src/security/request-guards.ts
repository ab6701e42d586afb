/**
 * Cheap checks on a raw GraphQL request before Apollo sees it: token count, string lengths and
 * list sizes in the document and variables. Each failure is a 400 with a message naming what
 * was too large; they run in microseconds, so hostile requests cost us almost nothing.
 */
import { type DocumentNode, Kind, parse, visit } from 'graphql';

export interface GuardLimits {
  readonly maxTokens: number;
  readonly maxStringLength: number;
  readonly maxListLength: number;
  /** Allowed list length for bulk operations (ingestEvents). */
  readonly maxBulkListLength: number;
}

export class RequestRejected extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const BULK_FIELDS = new Set(['ingestEvents', 'labelMessages']);

/** Parses with a token limit; a document over it is rejected before any AST is built past the limit. */
export function parseBounded(query: string, maxTokens: number): DocumentNode {
  try {
    return parse(query, { maxTokens, noLocation: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new RequestRejected(400, 'GRAPHQL_PARSE_FAILED', message);
  }
}

/** True when every operation in the document only calls bulk mutations. */
export function isBulkOnly(doc: DocumentNode): boolean {
  return doc.definitions.every(
    (d) =>
      d.kind === Kind.OPERATION_DEFINITION &&
      d.operation === 'mutation' &&
      d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && BULK_FIELDS.has(s.name.value)),
  );
}

export function checkDocumentStrings(doc: DocumentNode, limits: GuardLimits): void {
  visit(doc, {
    StringValue(node) {
      if (node.value.length > limits.maxStringLength) {
        throw new RequestRejected(400, 'BAD_USER_INPUT', `a string argument exceeds ${limits.maxStringLength} characters`);
      }
    },
    ListValue(node) {
      if (node.values.length > limits.maxListLength) {
        throw new RequestRejected(400, 'BAD_USER_INPUT', `a list argument exceeds ${limits.maxListLength} items`);
      }
    },
  });
}

/** Walks variable values: strings, list lengths and nesting depth. */
export function checkVariables(variables: unknown, limits: GuardLimits, bulk: boolean): void {
  const maxList = bulk ? limits.maxBulkListLength : limits.maxListLength;
  const walk = (v: unknown, path: string, depth: number): void => {
    if (depth > 12) throw new RequestRejected(400, 'BAD_USER_INPUT', `variables nest deeper than 12 levels at ${path}`);
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) {
        throw new RequestRejected(400, 'BAD_USER_INPUT', `variable ${path} exceeds ${limits.maxStringLength} characters`);
      }
    } else if (Array.isArray(v)) {
      if (v.length > maxList) throw new RequestRejected(400, 'BAD_USER_INPUT', `variable ${path} has more than ${maxList} items`);
      v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`, depth + 1);
    }
  };
  if (variables !== null && typeof variables === 'object') {
    for (const [k, v] of Object.entries(variables)) walk(v, `$${k}`, 0);
  }
}
