/**
 * Cheap checks on a raw GraphQL request before Apollo sees it: token count, string lengths and
 * list sizes in the document and variables. Each failure is a 400 with a message naming what
 * was too large; they run in microseconds, so hostile requests cost us almost nothing.
 */
import { type DocumentNode, Kind, OperationTypeNode, parse, visit } from 'graphql';

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
      d.operation === OperationTypeNode.MUTATION &&
      d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && BULK_FIELDS.has(s.name.value)),
  );
}

/** Postgres text cannot hold U+0000: refused here with the argument's name instead of failing in SQL. */
function nulRejected(where: string): RequestRejected {
  return new RequestRejected(400, 'BAD_USER_INPUT', `Invalid input: ${where}: must not contain a NUL character (U+0000)`);
}

export function checkDocumentStrings(doc: DocumentNode, limits: GuardLimits): void {
  // Argument and input-object field names down to the current literal, e.g. ["filter", "text"].
  const at: string[] = [];
  const named = { enter: (n: { name: { value: string } }) => void at.push(n.name.value), leave: () => void at.pop() };
  visit(doc, {
    Argument: named,
    ObjectField: named,
    StringValue(node) {
      if (node.value.length > limits.maxStringLength) {
        throw new RequestRejected(400, 'BAD_USER_INPUT', `a string argument exceeds ${limits.maxStringLength} characters`);
      }
      if (node.value.includes('\0')) throw nulRejected(at.join('.') || 'a string literal');
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
      if (v.includes('\0')) throw nulRejected(path);
    } else if (Array.isArray(v)) {
      if (v.length > maxList) throw new RequestRejected(400, 'BAD_USER_INPUT', `variable ${path} has more than ${maxList} items`);
      v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0')) throw nulRejected(`${path} (a key)`);
        walk(x, `${path}.${k}`, depth + 1);
      }
    }
  };
  if (variables !== null && typeof variables === 'object') {
    for (const [k, v] of Object.entries(variables)) walk(v, `$${k}`, 0);
  }
}
