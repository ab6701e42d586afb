/**
 * The job list: one row per job (stage, progress, times, result), kept in step with the followed
 * job's live updates, each with a link to its details and, while it runs, a confirmed Cancel.
 */
import { gql, isAborted, requestSlot } from '../api';
import { h, message, showError } from '../dom';
import { confirmButton, type Outcomes } from './confirm-button';
import { cancelJob } from './cancel-job';
import { duration, type Job, percent, TERMINAL, when } from './job';

const JOBS = `query TrainingJobs { trainingJobs(first: 20) { edges { node {
  id modelKind status progress epoch step totalSteps loss etaSeconds error cancelRequested attempts maxAttempts
  createdAt startedAt finishedAt dataFrom dataTo autoPromote comparison resultVersion { version status } } } } }`;

export interface JobsTable {
  readonly element: HTMLElement;
  load(): Promise<void>;
  /** A newer state of one job (from the live view). */
  update(j: Job): void;
  /** The page is left: aborts the request in flight; later loads do nothing. */
  close(): void;
}

export function jobsTable(outcomes: Outcomes, follow: (id: string) => void, reload: () => void): JobsTable {
  const element = h('div', { id: 'jobs' }, message('info', 'Loading jobs…'));
  const rows = new Map<string, HTMLTableRowElement>();
  const slot = requestSlot();
  let closed = false;

  /** The cells that change as a job runs. */
  function fill(tr: HTMLTableRowElement, j: Job): void {
    const stage = tr.querySelector<HTMLElement>('td.stage')!;
    stage.className = `stage status-${j.status.toLowerCase()}`;
    stage.textContent = j.cancelRequested && !TERMINAL.has(j.status) ? `${j.status.toLowerCase()} (cancelling)` : j.status.toLowerCase();
    tr.querySelector('td.pct')!.textContent = TERMINAL.has(j.status) ? '–' : `${percent(j)}%`;
    tr.querySelector('td.ran')!.textContent = j.startedAt ? duration(j.startedAt, j.finishedAt) : '–';
    tr.querySelector('td.result')!.textContent = j.resultVersion
      ? `${j.resultVersion.version} (${j.resultVersion.status.toLowerCase()})`
      : j.status === 'FAILED' ? (j.error ?? 'failed') : '–';
  }

  function row(j: Job): HTMLTableRowElement {
    const tr = h('tr', { 'data-job-id': j.id, 'data-status': j.status },
      h('th', { scope: 'row' }, h('a', { href: `#/models?job=${j.id}`, onclick: (e: Event) => { e.preventDefault(); follow(j.id); }, 'aria-label': `Job #${j.id} details` }, `#${j.id}`)),
      h('td', {}, j.modelKind),
      h('td', { class: 'stage' }),
      h('td', { class: 'pct' }),
      h('td', { class: 'opt' }, when(j.createdAt)),
      h('td', { class: 'ran opt' }),
      h('td', { class: 'result' }),
      h('td', { class: 'act' }, TERMINAL.has(j.status)
        ? outcomes.view(`cancel-row:${j.id}`)
        : confirmButton({
            label: 'Cancel', key: `cancel-row:${j.id}`, outcomes, question: `Cancel job #${j.id} (${j.modelKind})? Its training so far is lost.`,
            run: () => cancelJob(j.id), then: reload,
          })),
    );
    fill(tr, j);
    return tr;
  }

  return {
    element,
    async load() {
      if (closed) return;
      try {
        const d = await gql<{ trainingJobs: { edges: { node: Job }[] } }>(JOBS, {}, slot.next());
        if (closed) return;
        const jobs = d.trainingJobs.edges.map((e) => e.node);
        rows.clear();
        if (!jobs.length) {
          element.replaceChildren(message('empty', 'No training jobs yet.'));
          return;
        }
        const body = h('tbody', {}, ...jobs.map((j) => {
          const tr = row(j);
          rows.set(j.id, tr);
          return tr;
        }));
        element.replaceChildren(h('table', { class: 'jobs' },
          h('caption', { class: 'sr-only' }, 'Training jobs, newest first'),
          h('thead', {}, h('tr', {}, ...['Job', 'Model', 'Stage', 'Progress', 'Created', 'Ran for', 'Result', 'Action'].map((t) => h('th', { scope: 'col', class: t === 'Created' || t === 'Ran for' ? 'opt' : undefined }, t)))),
          body));
      } catch (err) {
        if (!closed && !isAborted(err)) showError(element, err);
      }
    },
    close() {
      closed = true;
      slot.cancel();
    },
    update(j) {
      const old = rows.get(j.id);
      if (!old) return;
      // Only the numbers change while it runs: the Cancel button (maybe focused, maybe busy) stays.
      if (old.dataset.status === j.status || (!TERMINAL.has(j.status) && !TERMINAL.has(old.dataset.status ?? ''))) {
        old.dataset.status = j.status;
        fill(old, j);
        return;
      }
      const fresh = row(j);
      old.replaceWith(fresh);
      rows.set(j.id, fresh);
    },
  };
}
