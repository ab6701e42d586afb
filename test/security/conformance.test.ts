/**
 * GraphQL-over-HTTP conformance: graphql-http's server audits against the running server.
 * MUST failures are "error"; SHOULD/MAY gaps are "warn"/"notice" and listed in README.
 */
import { serverAudits } from 'graphql-http';
import { useTestApp, withAuth } from '../helpers/app';

const t = useTestApp();

/** The audits speak for an authenticated client that passes CSRF prevention on GET. */
const authedFetch = (input: string | URL, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  for (const [k, v] of Object.entries(withAuth({}))) headers.set(k, v);
  headers.set('apollo-require-preflight', '1');
  return fetch(input, { ...init, headers });
};

describe('graphql-http server audits', () => {
  it('has no MUST failures', async () => {
    const results = await Promise.all(serverAudits({ url: () => t.app.url, fetchFn: authedFetch }).map((a) => a.fn()));
    const errors = results.filter((r) => r.status === 'error').map((r) => `${r.name}: ${'reason' in r ? r.reason : ''}`);
    expect(errors).toEqual([]);
    const gaps = results.filter((r) => r.status !== 'ok').map((r) => `${r.status} ${r.name}`);
    // Printed for README's conformance section.
    process.stdout.write(`graphql-http audits: ${results.length - gaps.length}/${results.length} ok\n${gaps.join('\n')}\n`);
  });
});
