/**
 * How an attempt failed, which decides what happens to the job: a retryable failure goes back to
 * the queue (with backoff, until the attempts run out); a permanent one fails the job at once.
 */

export class JobFailure extends Error {
  constructor(
    message: string,
    /** Worth another attempt (crash, lost process); false for bad input or a bad artifact. */
    readonly retryable: boolean,
    /** The trainer's stderr tail, for the job row. */
    readonly logTail?: string,
  ) {
    super(message);
    this.name = 'JobFailure';
  }
}

/** Lines of stderr quoted in a job's error message. */
const ERROR_TAIL_LINES = 20;

/**
 * A trainer run that did not end with `done`. Exit 2 is bad input (config, snapshot, artifact):
 * the same job would fail again, so it is not retried. Exit 1 and deaths by signal are.
 */
export function trainerFailure(
  command: string,
  exitCode: number | null,
  signal: string | null,
  errorMessage: string | null,
  stderrTail: string,
): JobFailure {
  const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
  const tail = stderrTail.split('\n').slice(-ERROR_TAIL_LINES).join('\n').trim();
  const message = `trainer ${command} ${how}${errorMessage ? `: ${errorMessage}` : ''}${tail ? `\n--- stderr (last lines) ---\n${tail}` : ''}`;
  return new JobFailure(message, exitCode !== 2, stderrTail);
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
