/** Domain errors of the inference runtime; the GraphQL error mapper passes their codes through. */
import { DomainError, ErrorCode } from '../common/errors';

/**
 * No session is serving this kind (not loaded, failed to load, or the runtime is stopped). The
 * message clients see names the kind only: `detail` can hold file paths, hashes and runtime
 * errors, so it stays in the logs and in the admin-only servingMetrics.unavailable.
 */
export class ModelUnavailableError extends DomainError {
  constructor(
    readonly kind: string,
    readonly detail = 'no model version is loaded',
  ) {
    super(ErrorCode.MODEL_UNAVAILABLE, `Model ${kind} is unavailable; try again later`);
    this.internal = detail;
    this.name = 'ModelUnavailableError';
  }
}

/** An artifact directory was refused by verification; nothing was registered or swapped. */
export class ModelArtifactError extends DomainError {
  constructor(
    readonly artifactDir: string,
    readonly reason: string,
  ) {
    super(ErrorCode.MODEL_ARTIFACT_INVALID, `Model artifact ${artifactDir} refused: ${reason}`);
    this.name = 'ModelArtifactError';
  }
}
