// The console's GraphQL operations, read from its sources at build time: every string literal that
// is a named query, mutation or subscription. Each is validated against the checked-in schema (a
// console query the server would refuse fails the build) and written to dist/console/operations.json,
// whose `partner` entries (the queries of the pages a partner may open) the server registers on the
// partner allow-list at start (src/security/console-operations.ts), so a partner key can use the
// console. Documents must be static: no ${} inside, no anonymous `{ … }`.
import fs from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';

/**
 * Sources of the pages a partner key may open (main.ts's PAGES: Map, Trends) and what they share.
 * Only queries from these go on the partner allow-list; the browser tests for partner keys fail if
 * one they need is missing, and test/security/console-operations.test.ts checks that admin-only
 * operations stay off it.
 */
const PARTNER_SOURCES = [/^main\.ts$/, /^pages\/(map\.page|trends\.page|controls)\.ts$/, /^map\//, /^charts\//];

const LITERAL = /(`(?:[^`\\]|\\.)*`|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")/g;
const OPERATION = /^\s*(query|mutation|subscription)\s+([A-Za-z_]\w*)/;
const ANONYMOUS = /\bgql(?:<[^(]*>)?\(\s*['"`]\s*\{/;

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

export function consoleOperations(srcDir, schemaFile) {
  const schema = buildSchema(fs.readFileSync(schemaFile, 'utf8'));
  const byName = new Map();
  const problems = [];
  for (const file of sources(srcDir)) {
    const text = fs.readFileSync(file, 'utf8');
    const rel = path.relative(srcDir, file).split(path.sep).join('/');
    const partnerSource = PARTNER_SOURCES.some((re) => re.test(rel));
    if (ANONYMOUS.test(text)) problems.push(`${rel}: an anonymous operation; name it (query Name { … })`);
    for (const [literal] of text.matchAll(LITERAL)) {
      const body = literal.slice(1, -1);
      const m = OPERATION.exec(body);
      if (!m) continue;
      if (literal.startsWith('`') && body.includes('${')) {
        problems.push(`${rel}: operation ${m[2]} is built with \${…}; operations must be static`);
        continue;
      }
      const query = literal.startsWith('`') ? body : JSON.parse(`"${body.replace(/\\'/g, "'").replace(/"/g, '\\"')}"`);
      const errors = validate(schema, parse(query));
      if (errors.length) problems.push(`${rel}: operation ${m[2]}: ${errors.map((e) => e.message).join('; ')}`);
      const seen = byName.get(m[2]);
      if (seen !== undefined && seen.query !== query) problems.push(`${rel}: two different operations are named ${m[2]}`);
      byName.set(m[2], { query, partner: (seen?.partner ?? false) || (partnerSource && m[1] === 'query') });
    }
  }
  if (problems.length) throw new Error(`console operations:\n  ${problems.join('\n  ')}`);
  return [...byName].map(([name, op]) => ({ name, ...op })).sort((a, b) => a.name.localeCompare(b.name));
}
