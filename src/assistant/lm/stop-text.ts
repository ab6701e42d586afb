/**
 * Stop strings over streamed text: text that could still be the start of a stop string is held
 * back until the next token settles it; a completed stop string ends the reply without itself.
 */
export class StopText {
  private held = '';
  private readonly longest: number;

  constructor(private readonly stops: readonly string[]) {
    this.longest = Math.max(0, ...stops.map((s) => s.length));
  }

  /** Adds streamed text; returns what may be shown now and whether a stop string completed. */
  push(text: string): { emit: string; stopped: boolean } {
    const all = this.held + text;
    let cut = -1;
    for (const s of this.stops) {
      const i = s ? all.indexOf(s) : -1;
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.held = '';
      return { emit: all.slice(0, cut), stopped: true };
    }
    let keep = 0; // the longest tail of `all` that is a proper prefix of some stop string
    for (let n = Math.min(this.longest - 1, all.length); n > 0 && keep === 0; n--) {
      const tail = all.slice(all.length - n);
      if (this.stops.some((s) => s.startsWith(tail))) keep = n;
    }
    this.held = all.slice(all.length - keep);
    return { emit: all.slice(0, all.length - keep), stopped: false };
  }

  /** Held-back text at the end of the reply. */
  flush(): string {
    const rest = this.held;
    this.held = '';
    return rest;
  }
}
