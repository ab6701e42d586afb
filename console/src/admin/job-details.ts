/**
 * The followed job, live over graphql-ws: a progress bar coloured by outcome, the stage and what is
 * happening in it, cancel (confirmed, its outcome beside it), times, hyperparameters, the
 * comparison with the serving version, and the tail of the trainer's log.
 */
import { subscribe } from '../api';
import { fmt, h, message } from '../dom';
import { cancelJob } from './cancel-job';
import { confirmButton, type Outcomes } from './confirm-button';
import { deltaClass, duration, type Job, percent, progressLabel, signed, stageDetail, TERMINAL, when } from './job';

const PROGRESS = `subscription TrainingJobProgress($id: ID!) { trainingJobProgress(id: $id) {
  id modelKind status progress epoch step totalSteps loss etaSeconds error cancelRequested attempts maxAttempts
  createdAt startedAt finishedAt dataFrom dataTo autoPromote comparison resultVersion { version status }
  hyperparameters logTail metrics } }`;

export interface JobDetails {
  readonly element: HTMLElement;
  /** Shows job `id` and subscribes to it (ending the subscription to the job before); nothing once stopped. */
  follow(id: string): void;
  /** Ends the subscription for good (the page is left): later follow() calls do nothing. */
  stop(): void;
}

/** `onUpdate` hears every state of the followed job (the page keeps its table row and messages in step). */
export function jobDetails(outcomes: Outcomes, onUpdate: (j: Job) => void): JobDetails {
  const element = h('section', { id: 'live', class: 'panel job-details', 'aria-labelledby': 'live-title' },
    h('h3', { id: 'live-title' }, 'Job details'), message('empty', 'Start a job or pick one in the table to follow it live.'));
  let unsubscribe: (() => void) | null = null;
  let stopped = false;

  function follow(id: string): void {
    if (stopped) return;
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
      stopped = true;
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
