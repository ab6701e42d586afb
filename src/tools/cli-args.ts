/** Tiny argv parser for the CLIs: `--name value`, `--flag`, and positionals. */
export interface ParsedArgs {
  readonly positional: string[];
  readonly options: Record<string, string | true>;
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
      const next = argv[i + 1];
      if (v !== undefined) options[k] = v;
      else if (next !== undefined && !next.startsWith('--')) options[k] = argv[++i]!;
      else options[k] = true;
    } else positional.push(a);
  }
  return { positional, options };
}

export function intOption(args: ParsedArgs, name: string, def: number): number {
  const v = args.options[name];
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}
