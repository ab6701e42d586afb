/**
 * Models & jobs (admin key), like Gorse's dashboard: versions of each kind compared on their main
 * metric, a form to start a fine-tuning job, the job list and the followed job's details, live over
 * graphql-ws. The parts live in ../admin/.
 */
import '../admin/admin.css';
import { gql } from '../api';
import { field, h, message, showError } from '../dom';
import { readParams, writeParams } from '../url-state';
import { Outcomes } from '../admin/confirm-button';
import { type Job, stageDetail, TERMINAL } from '../admin/job';
import { jobDetails } from '../admin/job-details';
import { jobsTable } from '../admin/jobs-table';
import { KINDS, versionsView } from '../admin/versions';

const START = `mutation StartFineTuning($i: StartFineTuningInput!) { startFineTuning(input: $i) { id modelKind status } }`;

export function modelsPage(root: HTMLElement): () => void {
  const outcomes = new Outcomes();
  const versions = versionsView(outcomes);
  const details = jobDetails(outcomes, onJob);
  const jobs = jobsTable(outcomes, follow, () => void jobs.load());
  /** The job this page started last: the form's message is about it. */
  let started: { id: string; kind: string } | null = null;
  /** Set by the page's cleanup: nothing may change the URL, subscribe or load after it. */
  let left = false;
  const lastStatus = new Map<string, string>();

  const kind = h('select', { name: 'kind' }, ...KINDS.map((k) => h('option', { value: k }, k)));
  const from = h('input', { name: 'from', type: 'date' });
  const to = h('input', { name: 'to', type: 'date' });
  const hp = h('textarea', { name: 'hyperparameters', rows: 2, cols: 30, placeholder: '{"epochs": 2}' });
  const auto = h('input', { name: 'autoPromote', type: 'checkbox' });
  const submit = h('button', { type: 'submit' }, 'Start fine-tuning');
  const formMsg = h('div', { id: 'start-message' });
  const form = h('form', { class: 'controls', id: 'start-job', onsubmit: (e: Event) => { e.preventDefault(); void start(); } },
    field('Model', kind), field('Data from', from), field('Data to', to), field('Hyperparameters (JSON)', hp), field('Auto-promote if it wins', auto), submit);

  root.replaceChildren(
    h('h2', {}, 'Models & jobs'),
    h('section', { class: 'panel', 'aria-labelledby': 'start-title' }, h('h3', { id: 'start-title' }, 'Fine-tune a model'), form, formMsg),
    details.element,
    h('section', { class: 'panel', 'aria-labelledby': 'jobs-title' }, h('h3', { id: 'jobs-title' }, 'Jobs'), jobs.element),
    h('section', { class: 'panel', 'aria-labelledby': 'versions-title' }, h('h3', { id: 'versions-title' }, 'Model versions'), versions.element),
  );

  /** Shows job `id` below, live, and puts it in the URL; nothing once the page is left. */
  function follow(id: string): void {
    if (left) return;
    writeParams({ job: id });
    details.follow(id);
    details.element.scrollIntoView({ block: 'nearest' });
    if (started) aboutStarted(started, id);
  }

  /**
   * The form's message while job `followed` is shown below: the started job's live state comes with
   * its updates (onJob); while another job is followed, a stage of the started one would go stale, so
   * the message says only that it was started, with a way back to it.
   */
  function aboutStarted(s: { id: string; kind: string }, followed: string): void {
    if (followed === s.id) {
      if (formMsg.dataset.about !== s.id) formMsg.replaceChildren(message('info', `Job #${s.id} (${s.kind}): connecting…`));
      formMsg.dataset.about = s.id;
      return;
    }
    delete formMsg.dataset.about;
    const m = message('info', `Job #${s.id} (${s.kind}) was started here; job #${followed} is shown below. `);
    m.append(h('a', { href: `#/models?job=${s.id}`, id: 'follow-started', onclick: (e: Event) => { e.preventDefault(); follow(s.id); } }, `Follow job #${s.id}`));
    formMsg.replaceChildren(m);
  }

  /** Every live state of the followed job: its row, the form's message, and the versions once it ends. */
  function onJob(j: Job): void {
    if (left) return;
    jobs.update(j);
    if (j.id === started?.id) {
      const failed = j.status === 'FAILED';
      formMsg.dataset.about = j.id;
      formMsg.replaceChildren(message(failed ? 'error' : 'info', `Job #${j.id} (${j.modelKind}): ${stageDetail(j)}`));
    }
    const before = lastStatus.get(j.id);
    lastStatus.set(j.id, j.status);
    if (TERMINAL.has(j.status) && before !== undefined && before !== j.status) void versions.load();
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
    submit.disabled = true;
    formMsg.replaceChildren(message('info', 'Starting…'));
    try {
      const d = await gql<{ startFineTuning: { id: string; modelKind: string } }>(START, {
        i: { modelKind: kind.value, hyperparameters, dataWindow, autoPromote: auto.checked },
      });
      if (left) return;
      const job = { id: d.startFineTuning.id, kind: d.startFineTuning.modelKind };
      started = job;
      formMsg.dataset.about = job.id;
      formMsg.replaceChildren(message('info', `Job #${job.id} (${job.kind}) queued; its progress is shown below.`));
      await jobs.load();
      if (left || started !== job) return; // left, or a newer start follows its own job
      follow(job.id);
    } catch (err) {
      if (!left) showError(formMsg, err);
    } finally {
      submit.disabled = false;
    }
  }

  void versions.load();
  void jobs.load().then(() => {
    const id = readParams().get('job');
    if (id && !left) details.follow(id);
  });
  return () => {
    left = true;
    details.stop();
    jobs.close();
    versions.close();
  };
}
