/**
 * The trainer's stdout protocol (trainer/README.md "stdout: one JSON object per line"), parsed into
 * typed events, and a bounded tail of its stderr for the job row and error messages. Pure.
 */

export type TrainerEvent =
  | { readonly event: 'phase'; readonly phase: string }
  | {
      readonly event: 'progress';
      readonly epoch: number | null;
      readonly step: number | null;
      readonly totalSteps: number | null;
      readonly loss: number | null;
      readonly metrics: Record<string, unknown>;
      readonly etaSeconds: number | null;
    }
  | { readonly event: 'done'; readonly artifact: string | null; readonly version: string | null; readonly metrics: Record<string, unknown> }
  | { readonly event: 'error'; readonly message: string };

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const object = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** One stdout line → an event; null for anything that is not a protocol line (never thrown on). */
export function parseTrainerLine(line: string): TrainerEvent | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  let o: Record<string, unknown>;
  try {
    o = object(JSON.parse(text));
  } catch {
    return null;
  }
  switch (o.event) {
    case 'phase':
      return typeof o.phase === 'string' ? { event: 'phase', phase: o.phase } : null;
    case 'progress':
      return {
        event: 'progress',
        epoch: finite(o.epoch),
        step: finite(o.step),
        totalSteps: finite(o.total_steps),
        loss: finite(o.loss),
        metrics: object(o.metrics),
        etaSeconds: finite(o.eta_s),
      };
    case 'done':
      return {
        event: 'done',
        artifact: typeof o.artifact === 'string' ? o.artifact : null,
        version: typeof o.version === 'string' ? o.version : null,
        metrics: object(o.metrics),
      };
    case 'error':
      return { event: 'error', message: typeof o.message === 'string' ? o.message : 'unknown trainer error' };
    default:
      return null;
  }
}

/** Splits a byte stream into lines, keeping the unfinished last one for the next chunk. */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    // A runaway line without newlines must not grow without bound.
    if (this.rest.length > 1 << 20) this.rest = this.rest.slice(-(1 << 20));
    return lines;
  }

  flush(): string[] {
    const last = this.rest;
    this.rest = '';
    return last ? [last] : [];
  }
}

/** The last `maxLines` lines (and at most `maxChars` characters) of a text stream. */
export class TailBuffer {
  private lines: string[] = [];
  /** The unterminated last line so far. */
  private partial = '';

  constructor(
    private readonly maxLines = 60,
    private readonly maxChars = 8_000,
  ) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = clip(parts.pop() ?? '');
    for (const line of parts) this.lines.push(clip(line));
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }

  /** The tail, including an unterminated last line; reading it changes nothing. */
  text(): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    const out = all.slice(-this.maxLines).join('\n');
    return out.length > this.maxChars ? out.slice(out.length - this.maxChars) : out;
  }
}

/** One line is kept to 1000 characters (a progress bar without newlines must not fill the tail). */
function clip(line: string): string {
  return line.length > 1000 ? `${line.slice(0, 1000)}…` : line;
}
