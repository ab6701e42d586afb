/**
 * The layering, pinned (issue 17): the GraphQL core and the model runtime import no domain, and a
 * domain's services import no GraphQL. Domains meet only at the root (src/services.ts, src/api.ts).
 * Read from the source text, so a violation fails here before any review.
 */
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');
const DOMAINS = ['analytics', 'assistant', 'catalog', 'events', 'jobs', 'nlp', 'predict', 'privacy', 'recommend'];
/** Below the domains: identity and security, the GraphQL core, the model runtime, infrastructure. */
const PLATFORM = ['auth', 'common', 'config', 'db', 'graphql', 'http', 'inference', 'observability', 'security'];
const GRAPHQL_PACKAGES = ['graphql', 'type-graphql', 'graphql-ws', '@apollo/server', 'dataloader'];
/** The GraphQL layer of a domain: resolvers, GraphQL types and inputs, per-request loaders. */
const GRAPHQL_FILE = /\.(resolver|types|inputs|loaders)\.ts$/;

interface Import {
  readonly file: string;
  readonly spec: string;
  /** The imported file relative to src/ (no extension), or the package name. */
  readonly target: string;
  readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

export function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'|require\('([^']+)'\)|import\('([^']+)'\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4] ?? m[5]!;
    const rel = spec.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), spec)) : spec;
    out.push({ file: path.relative(SRC, file), spec, target: rel.split(path.sep).join('/'), typeOnly: !!m[2] });
  }
  return out;
}

const all = sourceFiles(SRC).flatMap((f) => importsOf(f, fs.readFileSync(f, 'utf8')));
const folderOf = (p: string) => (p.includes('/') ? p.split('/')[0]! : '');
const describeImport = (i: Import) => `${i.file} imports '${i.spec}'`;

describe('import rules', () => {
  it('reads the imports it checks (sanity: the root composes every domain)', () => {
    const root = all.filter((i) => i.file === 'services.ts' || i.file === 'api.ts').map((i) => folderOf(i.target));
    for (const d of DOMAINS) expect(root).toContain(d);
  });

  it('graphql/ (the GraphQL core) imports no domain and not the model runtime', () => {
    const bad = all.filter((i) => i.file.startsWith('graphql/') && [...DOMAINS, 'inference'].includes(folderOf(i.target)));
    expect(bad.map(describeImport)).toEqual([]);
  });

  it('graphql/ reaches the composed API only through types', () => {
    const bad = all.filter((i) => i.file.startsWith('graphql/') && ['api', 'services'].includes(i.target) && !i.typeOnly);
    expect(bad.map(describeImport)).toEqual([]);
  });

  it('no platform folder imports a domain (the data source only registers the entities)', () => {
    const bad = all.filter(
      (i) => PLATFORM.includes(folderOf(i.file)) && DOMAINS.includes(folderOf(i.target)) && !(i.file === 'db/data-source.ts' && i.target.endsWith('.entity')),
    );
    expect(bad.map(describeImport)).toEqual([]);
  });

  it('inference/ (the model runtime) imports no domain', () => {
    const bad = all.filter((i) => i.file.startsWith('inference/') && DOMAINS.includes(folderOf(i.target)));
    expect(bad.map(describeImport)).toEqual([]);
  });

  it("a domain's services import no GraphQL (only its resolvers, GraphQL types and loaders do)", () => {
    const bad = all.filter(
      (i) =>
        [...DOMAINS, 'inference'].includes(folderOf(i.file)) &&
        !GRAPHQL_FILE.test(i.file) &&
        (GRAPHQL_PACKAGES.includes(i.target) || i.target.startsWith('@apollo/') || folderOf(i.target) === 'graphql'),
    );
    expect(bad.map(describeImport)).toEqual([]);
  });

  it("a domain's services use another domain only through types, its data model (*.entity) or ports wired at the root", () => {
    // Field resolvers may add a field to another domain's GraphQL type (User.recommendations).
    const bad = all.filter((i) => {
      const from = folderOf(i.file);
      const to = folderOf(i.target);
      return DOMAINS.includes(from) && DOMAINS.includes(to) && from !== to && !i.typeOnly && !GRAPHQL_FILE.test(i.file) && !i.target.endsWith('.entity');
    });
    expect(bad.map(describeImport)).toEqual([]);
  });
});
