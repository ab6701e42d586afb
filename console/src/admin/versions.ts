/**
 * Model versions per kind, compared on the kind's main metric (the one the promotion gate uses):
 * each version's value and its difference from the serving version, up ▲ or down ▼, with promote
 * and roll back (each confirmed, its outcome beside it). All reported metrics fold out below.
 */
import { gql, isAborted, requestSlot } from '../api';
import { fmt, h, message, showError } from '../dom';
import { confirmButton, type Outcomes } from './confirm-button';
import { deltaClass, MAIN_METRIC, signed, when } from './job';

export const KINDS = ['NEXT_ITEM', 'BEHAVIOR', 'SENTIMENT', 'INTENT'] as const;

interface Version {
  id: string; version: string; status: string; metrics: Record<string, unknown>; createdAt: string; activatedAt: string | null; sourceJobId: string | null;
}

const VERSIONS = `query ModelVersions($k: ModelKind!) { modelVersions(kind: $k) { id version status metrics createdAt activatedAt sourceJobId } }`;
const ROLLBACK = `mutation RollbackModel($k: ModelKind!) { rollbackModel(kind: $k) { id version } }`;
const PROMOTE = `mutation PromoteModelVersion($id: ID!) { promoteModelVersion(id: $id) { id version } }`;

function metric(v: Version, name: string): number | null {
  const x = v.metrics[name];
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

export interface VersionsView {
  readonly element: HTMLElement;
  load(): Promise<void>;
  /** The page is left: aborts the requests in flight; later loads do nothing. */
  close(): void;
}

export function versionsView(outcomes: Outcomes): VersionsView {
  const element = h('div', { id: 'versions' }, message('info', 'Loading model versions…'));
  const slot = requestSlot();
  let closed = false;

  async function load(): Promise<void> {
    if (closed) return;
    try {
      const signal = slot.next();
      const parts = await Promise.all(KINDS.map((k) => gql<{ modelVersions: Version[] }>(VERSIONS, { k }, signal)));
      if (closed) return;
      element.replaceChildren(...KINDS.map((k, i) => kindBlock(k, parts[i]!.modelVersions)));
    } catch (err) {
      if (!closed && !isAborted(err)) showError(element, err);
    }
  }

  function close(): void {
    closed = true;
    slot.cancel();
  }

  function kindBlock(kind: string, versions: Version[]): HTMLElement {
    const main = MAIN_METRIC[kind] ?? '';
    const title = h('h4', { id: `kind-${kind}` }, kind);
    const rollback = confirmButton({
      label: 'Roll back', key: `rollback:${kind}`, outcomes, className: 'secondary',
      question: `Roll ${kind} back to the version that served before the current one? Requests are answered by it at once.`,
      run: async () => `Rolled back: ${(await gql<{ rollbackModel: { version: string } }>(ROLLBACK, { k: kind })).rollbackModel.version} serves ${kind}.`,
      then: load,
    });
    if (versions.length === 0) return h('section', { class: 'kind', 'data-kind': kind, 'aria-labelledby': title.id }, title, message('empty', 'No versions.'));
    const serving = versions.find((v) => v.status === 'ACTIVE') ?? null;
    const ref = serving ? metric(serving, main) : null;
    const values = versions.map((v) => metric(v, main)).filter((x): x is number => x !== null);
    const best = values.length ? Math.max(...values) : null;
    const rows = versions.map((v) => {
      const value = metric(v, main);
      const delta = v === serving || value === null || ref === null ? null : value - ref;
      const width = value === null || !best ? 0 : Math.max(2, Math.round((value / Math.max(best, 1e-9)) * 100));
      return h('tr', { 'data-version-id': v.id, class: v === serving ? 'serving' : '' },
        h('th', { scope: 'row' }, h('span', { class: 'version-name' }, v.version), v.sourceJobId ? h('small', {}, ` job #${v.sourceJobId}`) : h('small', {}, ' shipped')),
        h('td', { class: `status-${v.status.toLowerCase()}` }, v.status.toLowerCase()),
        h('td', { class: 'metric' }, h('span', { class: 'metric-bar', style: `width: ${width}%`, 'aria-hidden': 'true' }), fmt(value, 4), value !== null && value === best && values.length > 1 ? h('span', { class: 'best' }, ' best') : null),
        h('td', { class: v === serving ? 'delta' : deltaClass(delta) }, v === serving ? 'serving (reference)' : signed(delta)),
        h('td', {}, when(v.createdAt)),
        h('td', { class: 'act' }, v.status === 'ACTIVE'
          ? h('span', {}, 'serving ', outcomes.view(`promote:${v.id}`))
          : confirmButton({
              label: 'Promote', key: `promote:${v.id}`, outcomes,
              question: `Promote ${kind} version ${v.version}? It replaces ${serving ? serving.version : 'nothing'} for every request at once.`,
              run: async () => `Promoted: ${(await gql<{ promoteModelVersion: { version: string } }>(PROMOTE, { id: v.id })).promoteModelVersion.version} now serves.`,
              then: load,
            })),
      );
    });
    const names = [...new Set(versions.flatMap((v) => Object.keys(v.metrics).filter((m) => typeof v.metrics[m] === 'number')))].sort();
    return h('section', { class: 'kind', 'data-kind': kind, 'aria-labelledby': title.id },
      h('div', { class: 'kind-head' }, title, rollback),
      h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': `${kind} versions` }, h('table', { class: 'versions' },
        h('caption', {}, `${kind} versions on ${main} (higher is better), each as measured on its own test data when registered; Δ is to the serving version. A job's details compare the two on the same data.`),
        h('thead', {}, h('tr', {}, ...['Version', 'Status', main, `Δ vs serving`, 'Created', 'Action'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...rows))),
      names.length ? h('details', { class: 'all-metrics' }, h('summary', {}, `All metrics (${names.length})`),
        h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': `${kind}: all metrics` }, h('table', {},
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Metric'), ...versions.map((v) => h('th', { scope: 'col' }, v.version)))),
          h('tbody', {}, ...names.map((m) => h('tr', { class: m === main ? 'main-metric' : '' }, h('th', { scope: 'row' }, m), ...versions.map((v) => h('td', {}, fmt(metric(v, m), 4))))))))) : null,
    );
  }

  return { element, load, close };
}
