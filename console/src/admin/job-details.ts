/**
 * The followed job, live over graphql-ws: a progress bar coloured by outcome, the stage and what is
 * happening in it, cancel (confirmed, its outcome beside it), times, hyperparameters, the
 * comparison with the serving version, and the tail of the trainer's log.
 */
import { gql, subscribe } from '../api';
import { fmt, h, message } from '../dom';
import { confirmButton, type Outcomes } from './confirm-button';
import { duration, type Job, percent, progressLabel, stageDetail, TERMINAL, when } from './job';

const PROGRESS = `subscription TrainingJobProgress($id: ID!) { trainingJobProgress(id: $id) {
  id modelKind status progress epoch step totalSteps loss etaSeconds error cancelRequested attempts maxAttempts
  createdAt startedAt finishedAt dataFrom dataTo autoPromote comparison resultVersion { version status }
  hyperparameters logTail metrics } }`;
export const CANCEL = `mutation CancelTrainingJob($id: ID!) { cancelTrainingJob(id: $id) { id status cancelRequested } }`;

export async function cancelJob(id: string): Promise<string> {
  const d = await gql<{ cancelTrainingJob: { status: string } }>(CANCEL, { id });
  return d.cancelTrainingJob.status === 'CANCELLED' ? `Job #${id} cancelled.` : `Cancel requested: job #${id} stops at its next check.`;
}

export interface JobDetails {
  readonly element: HTMLElement;
  follow(id: string): void;
  stop(): void;
}

/** `onUpdate` hears every state of the followed job (the page keeps its table row and messages in step). */
export function jobDetails(outcomes: Outcomes, onUpdate: (j: Job) => void): JobDetails {
  const element = h('section', { id: 'live', class: 'panel job-details', 'aria-labelledby': 'live-title' },
    h('h3', { id: 'live-title' }, 'Job details'), message('empty', 'Start a job or pick one in the table to follow it live.'));
  let unsubscribe: (() => void) | null = null;

  function follow(id: string): void {
    unsubscribe?.();
    let highest = 0;
    const bar = h('div', { style: 'width: 0%' });
    const progress = h('div', { class: 'progress job-progress', id: 'live-progress', role: 'progressbar', 'aria-label': `Job #${id} progress`, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 }, bar);
    const text = h('p', { id: 'live-text', class: 'stage' }, 'connecting…');
    const detail = h('p', { id: 'live-detail', class: 'stage-detail' });
    const cancelBox = h('div', { class: 'job-actions' });
    const facts = h('dl', { class: 'job-facts' });
    const comparison = h('div', { class: 'job-comparison' });
    const hyper = h('pre', { class: 'job-hyper' });
    const log = h('pre', { class: 'job-log', id: 'live-log', tabindex: 0, 'aria-label': 'Log tail' });
    const errorBox = h('div');
    element.replaceChildren(
      h('h3', { id: 'live-title' }, `Job #${id}`), progress, text, detail, cancelBox, errorBox,
      h('div', { class: 'job-grid' },
        h('div', {}, h('h4', {}, 'Run'), facts),
        h('div', {}, h('h4', {}, 'Compared with the serving version'), comparison),
        h('div', {}, h('h4', {}, 'Hyperparameters'), hyper)),
      h('details', { class: 'job-log-box' }, h('summary', {}, 'Log tail (trainer stderr)'), log),
    );
    element.dataset.jobId = id;
    delete element.dataset.status;
    delete element.dataset.progress;
    let cancelShown = false;

    unsubscribe = subscribe<{ trainingJobProgress: Job }>(
      PROGRESS,
      { id },
      ({ trainingJobProgress: j }) => {
        const terminal = TERMINAL.has(j.status);
        highest = Math.max(highest, j.progress);
        // Failure and cancellation reset the row's progress to 0: the bar fills in its outcome colour instead.
        const width = terminal ? 100 : percent(j);
        bar.style.width = `${width}%`;
        progress.dataset.status = j.status;
        progress.setAttribute('aria-valuenow', String(terminal ? percent(j) : width));
        progress.setAttribute('aria-valuetext', progressLabel(j));
        element.dataset.status = j.status;
        element.dataset.progress = String(j.progress);
        text.textContent = `${j.modelKind} · ${progressLabel(j)}${(j.status === 'CANCELLED' || j.status === 'FAILED') && highest > 0 ? ` at ${Math.round(highest * 100)}%` : ''}`;
        text.className = `stage status-${j.status.toLowerCase()}`;
        detail.textContent = stageDetail(j);
        if (!terminal && !cancelShown) {
          cancelShown = true;
          cancelBox.replaceChildren(confirmButton({
            label: 'Cancel job', key: `cancel-live:${id}`, outcomes, question: `Cancel job #${id} (${j.modelKind})? Its training so far is lost.`,
            run: () => cancelJob(id),
          }));
        } else if (terminal && cancelShown) {
          cancelShown = false;
          const kept = cancelBox.querySelector('.outcome');
          cancelBox.replaceChildren(...(kept ? [kept] : []));
        }
        renderFacts(facts, j);
        renderComparison(comparison, j);
        hyper.textContent = JSON.stringify(j.hyperparameters ?? {}, null, 2);
        const tail = j.logTail ?? '';
        if (log.textContent !== tail) {
          log.textContent = tail || '(nothing logged yet)';
          log.scrollTop = log.scrollHeight;
        }
        onUpdate(j);
      },
      (err) => errorBox.replaceChildren(message('error', `Live updates stopped: ${err.message}`)),
      () => undefined,
    );
  }

  return {
    element,
    follow,
    stop() {
      unsubscribe?.();
      unsubscribe = null;
    },
  };
}

function renderFacts(dl: HTMLElement, j: Job): void {
  const rows: [string, string][] = [
    ['Model', j.modelKind],
    ['Created', when(j.createdAt)],
    ['Started', when(j.startedAt)],
    ['Finished', when(j.finishedAt)],
    ['Running for', j.startedAt ? duration(j.startedAt, j.finishedAt) : '–'],
    ['Attempts', `${j.attempts} of ${j.maxAttempts}`],
    ['Data', `${j.dataFrom ? when(j.dataFrom) : 'all events'} → ${when(j.dataTo)}`],
    ['Auto-promote', j.autoPromote ? 'yes' : 'no'],
    ['Result', j.resultVersion ? `${j.resultVersion.version} (${j.resultVersion.status.toLowerCase()})` : '–'],
  ];
  if (j.error) rows.push(['Error', j.error]);
  dl.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function renderComparison(box: HTMLElement, j: Job): void {
  const c = j.comparison;
  if (!c) {
    box.replaceChildren(message('empty', TERMINAL.has(j.status) ? 'No comparison (the job did not reach evaluation).' : 'After training: the new model against the serving one on the same held-out data.'));
    return;
  }
  const delta = c.delta ?? null;
  box.replaceChildren(
    h('table', { class: 'compare' },
      h('tr', {}, h('th', { scope: 'row' }, 'Metric'), h('td', {}, c.metric ?? '–')),
      h('tr', {}, h('th', { scope: 'row' }, 'New version'), h('td', {}, fmt(c.candidate ?? null, 4))),
      h('tr', {}, h('th', { scope: 'row' }, `Serving${c.activeVersion ? ` (${c.activeVersion})` : ''}`), h('td', {}, c.activeError ? `not scored: ${c.activeError}` : fmt(c.active ?? null, 4))),
      h('tr', {}, h('th', { scope: 'row' }, 'Difference'), h('td', { class: deltaClass(delta) }, signed(delta))),
      h('tr', {}, h('th', { scope: 'row' }, 'Margin to beat'), h('td', {}, fmt(c.margin ?? null, 4))),
      h('tr', {}, h('th', { scope: 'row' }, 'Decision'), h('td', {}, `${c.beats ? 'beats the serving version' : 'does not beat it'}${c.promoted ? '; promoted' : ''}${c.decision ? ` (${c.decision})` : ''}`))),
  );
}

/** "+0.0123 ▲" / "−0.0050 ▼" / "±0": never by colour alone. */
export function signed(d: number | null): string {
  if (d === null || !Number.isFinite(d)) return '–';
  if (Math.abs(d) < 5e-5) return '±0.0000';
  return d > 0 ? `+${d.toFixed(4)} ▲` : `−${Math.abs(d).toFixed(4)} ▼`;
}

export function deltaClass(d: number | null): string {
  if (d === null || !Number.isFinite(d) || Math.abs(d) < 5e-5) return 'delta';
  return d > 0 ? 'delta up' : 'delta down';
}
