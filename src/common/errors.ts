/**
 * Domain errors: services throw these, knowing nothing of GraphQL.
 * src/graphql/error-mapper.ts turns them into GraphQL errors with extensions.code.
 */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  FORBIDDEN = 'FORBIDDEN',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  RATE_LIMITED = 'RATE_LIMITED',
  /** A partner key spent its daily differential-privacy budget (docs/privacy.md). */
  PRIVACY_BUDGET_EXHAUSTED = 'PRIVACY_BUDGET_EXHAUSTED',
  /** A statement ran past the caller's role limit (STATEMENT_TIMEOUT_<ROLE>_MS) and was cancelled. */
  QUERY_TIMEOUT = 'QUERY_TIMEOUT',
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  /** A model artifact failed verification (hash, ONNX load, inputs/outputs, sample run). */
  MODEL_ARTIFACT_INVALID = 'MODEL_ARTIFACT_INVALID',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
}

/** One problem with one input field; `path` names it, e.g. "events[12].location.latitude". */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export class DomainError extends Error {
  /** What went wrong inside, for the logs only (paths, hashes, runtime errors): never sent to clients. */
  internal?: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class ValidationError extends DomainError {
  constructor(issues: readonly FieldIssue[]) {
    const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
    const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
    super(ErrorCode.BAD_USER_INPUT, `Invalid input: ${shown}${more}`, issues);
    this.name = 'ValidationError';
  }

  static of(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

export class NotFoundError extends DomainError {
  constructor(entity: string, id: string) {
    super(ErrorCode.NOT_FOUND, `${entity} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

/** Collects field issues so a whole input is checked before anything is written. */
export class IssueCollector {
  private readonly list: FieldIssue[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get issues(): readonly FieldIssue[] {
    return this.list;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new ValidationError(this.list);
  }
}
