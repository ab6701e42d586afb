/**
 * Models & jobs (admin key): versions of each kind with metrics side by side, promote/rollback,
 * a form to start a fine-tuning job, the job list, and a live progress bar over graphql-ws.
 */
import { gql, subscribe } from '../api';
import { field, fmt, h, message, showError } from '../dom';

const KINDS = ['NEXT_ITEM', 'BEHAVIOR', 'SENTIMENT', 'INTENT'] as const;

interface Version {
  id: string; version: string; status: string; metrics: Record<string, unknown>; createdAt: string; sourceJobId: string | null;
}
interface Job {
  id: string; modelKind: string; status: string; progress: number; epoch: number | null; loss: number | null; etaSeconds: number | null;
  error: string | null; createdAt: string; comparison: Record<string, unknown> | null; resultVersion: { version: string; status: string } | null;
}

const VERSIONS = `query ModelVersions($k: ModelKind!) { modelVersions(kind: $k) { id version status metrics createdAt sourceJobId } }`;
const JOBS = `query TrainingJobs { trainingJobs(first: 20) { edges { node { id modelKind status progress epoch loss etaSeconds error createdAt comparison resultVersion { version status } } } } }`;
const START = `mutation StartFineTuning($i: StartFineTuningInput!) { startFineTuning(input: $i) { id modelKind status progress epoch loss etaSeconds error createdAt comparison resultVersion { version status } } }`;
const PROGRESS = `subscription TrainingJobProgress($id: ID!) { trainingJobProgress(id: $id) { id modelKind status progress epoch loss etaSeconds error createdAt comparison resultVersion { version status } } }`;
const ROLLBACK = `mutation RollbackModel($k: ModelKind!) { rollbackModel(kind: $k) { version } }`;
const PROMOTE = `mutation PromoteModelVersion($id: ID!) { promoteModelVersion(id: $id) { version } }`;
const CANCEL = `mutation CancelTrainingJob($id: ID!) { cancelTrainingJob(id: $id) { status } }`;
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export function modelsPage(root: HTMLElement): () => void {
  const versionsBox = h('div', { id: 'versions' });
  const jobsBox = h('div', { id: 'jobs' });
  const live = h('div', { id: 'live', class: 'panel' }, message('empty', 'Start a job or pick one to follow it live.'));
  let unsubscribe: (() => void) | null = null;

  const kind = h('select', { name: 'kind' }, ...KINDS.map((k) => h('option', { value: k }, k)));
  const from = h('input', { name: 'from', type: 'date' });
  const to = h('input', { name: 'to', type: 'date' });
  const hp = h('textarea', { name: 'hyperparameters', rows: 2, cols: 40, placeholder: '{"epochs": 2}' });
  const auto = h('input', { name: 'autoPromote', type: 'checkbox' });
  const formMsg = h('div');
  const form = h('form', { class: 'controls panel', id: 'start-job', onsubmit: (e: Event) => { e.preventDefault(); void start(); } },
    field('Model', kind), field('Data from', from), field('Data to', to), field('Hyperparameters (JSON)', hp), field('Auto-promote', auto),
    h('button', { type: 'submit' }, 'Start fine-tuning'), formMsg);

  root.replaceChildren(h('h2', {}, 'Models & jobs'), form, live, h('div', { class: 'panel' }, h('h3', {}, 'Jobs'), jobsBox), h('div', { class: 'panel' }, h('h3', {}, 'Model versions'), versionsBox));

  async function loadVersions(): Promise<void> {
    try {
      const parts = await Promise.all(KINDS.map((k) => gql<{ modelVersions: Version[] }>(VERSIONS, { k })));
      versionsBox.replaceChildren(...KINDS.map((k, i) => versionTable(k, parts[i]!.modelVersions)));
    } catch (err) {
      showError(versionsBox, err);
    }
  }

  function versionTable(k: string, versions: Version[]): HTMLElement {
    if (versions.length === 0) return h('div', {}, h('h4', {}, k), message('empty', 'No versions.'));
    const metricNames = [...new Set(versions.flatMap((v) => Object.keys(v.metrics).filter((m) => typeof v.metrics[m] === 'number')))].sort();
    return h('div', { class: 'kind' },
      h('h4', {}, k, ' ', h('button', { onclick: () => void act(ROLLBACK, { k }) }, 'Roll back')),
      h('table', {},
        h('tr', {}, h('th', {}, ''), ...versions.map((v) => h('th', { class: `status-${v.status.toLowerCase()}` }, `${v.version} (${v.status.toLowerCase()})`))),
        ...metricNames.map((m) => h('tr', {}, h('td', {}, m), ...versions.map((v) => h('td', {}, fmt(v.metrics[m] as number, 4))))),
        h('tr', {}, h('td', {}, ''), ...versions.map((v) => h('td', {}, v.status === 'ACTIVE' ? 'serving' : h('button', { onclick: () => void act(PROMOTE, { id: v.id }) }, 'Promote')))),
      ));
  }

  async function loadJobs(): Promise<void> {
    try {
      const d = await gql<{ trainingJobs: { edges: { node: Job }[] } }>(JOBS);
      const jobs = d.trainingJobs.edges.map((e) => e.node);
      jobsBox.replaceChildren(
        jobs.length
          ? h('table', {}, h('tr', {}, h('th', {}, 'Job'), h('th', {}, 'Model'), h('th', {}, 'Status'), h('th', {}, 'Progress'), h('th', {}, 'Result'), h('th', {}, '')),
              ...jobs.map((j) => h('tr', {},
                h('td', {}, h('a', { href: '#/models', onclick: (e: Event) => { e.preventDefault(); follow(j.id); } }, `#${j.id}`)),
                h('td', {}, j.modelKind), h('td', { class: `status-${j.status.toLowerCase()}` }, j.status.toLowerCase()),
                h('td', {}, `${Math.round(j.progress * 100)}%`), h('td', {}, j.resultVersion ? `${j.resultVersion.version} (${j.resultVersion.status.toLowerCase()})` : j.error ?? ''),
                h('td', {}, TERMINAL.has(j.status) ? '' : h('button', { onclick: () => void act(CANCEL, { id: j.id }) }, 'Cancel')))))
          : message('empty', 'No training jobs yet.'),
      );
    } catch (err) {
      showError(jobsBox, err);
    }
  }

  async function act(mutation: string, variables: Record<string, unknown>): Promise<void> {
    try {
      await gql(mutation, variables);
      await Promise.all([loadVersions(), loadJobs()]);
    } catch (err) {
      showError(formMsg, err);
    }
  }

  async function start(): Promise<void> {
    let hyperparameters: unknown = null;
    if (hp.value.trim()) {
      try {
        hyperparameters = JSON.parse(hp.value);
      } catch {
        formMsg.replaceChildren(message('error', 'Hyperparameters must be a JSON object, e.g. {"epochs": 2}.'));
        return;
      }
    }
    const dataWindow = from.value || to.value ? { from: from.value ? `${from.value}T00:00:00Z` : null, to: to.value ? `${to.value}T00:00:00Z` : null } : null;
    try {
      const d = await gql<{ startFineTuning: Job }>(START, {
        i: { modelKind: kind.value, hyperparameters, dataWindow, autoPromote: auto.checked },
      });
      formMsg.replaceChildren(message('info', `Job #${d.startFineTuning.id} queued.`));
      follow(d.startFineTuning.id);
      void loadJobs();
    } catch (err) {
      showError(formMsg, err);
    }
  }

  function follow(id: string): void {
    unsubscribe?.();
    const bar = h('div', { style: 'width: 0%' });
    const text = h('div', { id: 'live-text' }, `Job #${id}: connecting…`);
    live.replaceChildren(h('h3', {}, `Job #${id}`), h('div', { class: 'progress', id: 'live-progress', role: 'progressbar' }, bar), text);
    unsubscribe = subscribe<{ trainingJobProgress: Job }>(
      PROGRESS,
      { id },
      ({ trainingJobProgress: j }) => {
        bar.style.width = `${Math.round(j.progress * 100)}%`;
        live.dataset.status = j.status;
        live.dataset.progress = String(j.progress);
        const eta = j.etaSeconds !== null ? ` · ETA ${Math.round(j.etaSeconds)} s` : '';
        const loss = j.loss !== null ? ` · loss ${fmt(j.loss, 4)}` : '';
        const decision = j.comparison?.decision;
        const cmp = j.comparison ? ` · ${typeof decision === 'string' ? decision : ''}` : '';
        text.textContent = `${j.status.toLowerCase()} ${Math.round(j.progress * 100)}%${j.epoch !== null ? ` · epoch ${j.epoch}` : ''}${loss}${eta}${cmp}${j.error ? ` · ${j.error}` : ''}`;
        if (TERMINAL.has(j.status)) void Promise.all([loadJobs(), loadVersions()]);
      },
      (err) => live.append(message('error', err.message)),
      () => undefined,
    );
  }

  void loadVersions();
  void loadJobs();
  return () => unsubscribe?.();
}
