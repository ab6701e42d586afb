/**
 * Pure parts of the jobs module: hyperparameter validation against trainer/hyperparameters.json,
 * the evaluation gate, the trainer's stdout protocol, the log tail, and the jobs config.
 */
import path from 'node:path';
import { loadConfig } from '../../src/config/config';
import { loadHyperparameterSpecs, validateHyperparameters } from '../../src/jobs/hyperparameters';
import { trainerArgs } from '../../src/jobs/local-process.runner';
import { compare, evaluationConfig, PRIMARY_METRIC, promotionDecision } from '../../src/jobs/promotion-gate';
import { LineSplitter, parseTrainerLine, TailBuffer } from '../../src/jobs/trainer-output';

const TRAINER = path.resolve(__dirname, '../../trainer');
const specs = loadHyperparameterSpecs(TRAINER);

describe('hyperparameter validation', () => {
  const check = (kind: Parameters<typeof validateHyperparameters>[1], v: unknown, base: Record<string, unknown> | null = null) =>
    validateHyperparameters(specs, kind, v, 'input.hyperparameters', base);

  it('accepts the smoke configs the trainer ships', () => {
    expect(check('next-item', { max_len: 20, d_model: 16, n_layers: 1, epochs: 4, batch_size: 32, lr: 0.005, dropout: 0.1, n_cells: 16, patience: 10, trans_topm: 5, top_k: 10 })).toEqual([]);
    expect(check('behavior', { max_len: 16, d_model: 16, hidden: 32, epochs: 3, batch_size: 128, cutoff_days: 10, horizons_days: [1, 3, 7] })).toEqual([]);
    expect(check('sentiment', { mode: 'ngram', ngram_buckets: 4096, ngram_dim: 16, epochs: 5, batch_size: 16, lr: 0.05, keep_fp32: true })).toEqual([]);
  });

  it('names the key of an unknown, mistyped or out-of-range value', () => {
    expect(check('next-item', { learning_rate: 0.1 })).toEqual([{ path: 'input.hyperparameters.learning_rate', message: expect.stringContaining('not a next-item hyperparameter') }]);
    expect(check('next-item', { lr: 50 })).toEqual([{ path: 'input.hyperparameters.lr', message: 'must be ≤ 1' }]);
    expect(check('next-item', { epochs: 2.5 })).toEqual([{ path: 'input.hyperparameters.epochs', message: 'must be an integer' }]);
    expect(check('next-item', { use_hour: 'yes' })).toEqual([{ path: 'input.hyperparameters.use_hour', message: 'must be true or false' }]);
    expect(check('next-item', { eval_protocol: 'sampled' })[0]!.message).toMatch(/one of full, sampled100/);
    expect(check('behavior', { horizons_days: [1, 400] })[0]).toEqual({ path: 'input.hyperparameters.horizons_days', message: '[1] must be ≤ 365' });
    expect(check('behavior', { horizons_days: [] })[0]!.message).toMatch(/non-empty/);
    expect(check('sentiment', [1, 2])).toEqual([{ path: 'input.hyperparameters', message: 'must be a JSON object' }]);
  });

  it('refuses a different architecture when fine-tuning, and allows it from scratch', () => {
    const base = { d_model: 64, max_len: 50, lr: 0.001 };
    expect(check('next-item', { d_model: 16 }, base)[0]).toEqual({ path: 'input.hyperparameters.d_model', message: expect.stringContaining('architecture key') });
    expect(check('next-item', { d_model: 64, lr: 0.01 }, base)).toEqual([]);
    expect(check('next-item', { d_model: 16 }, null)).toEqual([]);
  });
});

describe('evaluation gate', () => {
  const active = { versionId: '1', version: 'v1', metrics: { 'ndcg@10': 0.3, 'hr@10': 0.5 }, error: null };

  it('uses the metric names the trainer prints', () => {
    expect(PRIMARY_METRIC).toEqual({ 'next-item': 'ndcg@10', behavior: 'next_purchase_auc', sentiment: 'macro_f1', intent: 'accuracy' });
  });

  it('promotes only a candidate that beats the active version by the margin', () => {
    const win = compare('next-item', { 'ndcg@10': 0.31 }, active, 0.01);
    expect(win).toMatchObject({ metric: 'ndcg@10', candidate: 0.31, active: 0.3, beats: true, activeVersionId: '1' });
    expect(promotionDecision(true, win).promote).toBe(true);
    const close = compare('next-item', { 'ndcg@10': 0.305 }, active, 0.01);
    expect(close.beats).toBe(false);
    expect(promotionDecision(true, close)).toEqual({ promote: false, decision: expect.stringContaining('does not beat') });
    const worse = compare('next-item', { 'ndcg@10': 0.2 }, active, 0);
    expect(worse.beats).toBe(false);
  });

  it('keeps the candidate when autoPromote is off, the active model cannot be scored, or the candidate has no metric', () => {
    expect(promotionDecision(false, compare('next-item', { 'ndcg@10': 0.9 }, active, 0)).promote).toBe(false);
    const unscored = compare('next-item', { 'ndcg@10': 0.9 }, { ...active, metrics: null, error: 'exit 1' }, 0);
    expect(unscored.beats).toBe(false);
    expect(promotionDecision(true, unscored).decision).toMatch(/could not be scored/);
    expect(promotionDecision(true, compare('next-item', { 'hr@10': 0.9 }, active, 0)).promote).toBe(false);
  });

  it('promotes over nothing when no version is active', () => {
    const c = compare('intent', { accuracy: 0.7 }, null, 0.005);
    expect(c).toMatchObject({ beats: true, active: null, activeVersionId: null });
    expect(promotionDecision(true, c)).toEqual({ promote: true, decision: 'no version was active' });
  });

  it('scores the active version with the split settings of the candidate', () => {
    expect(evaluationConfig('next-item', { eval_protocol: 'sampled100', eval_users: 100, lr: 0.1, d_model: 8 })).toEqual({ eval_protocol: 'sampled100', eval_users: 100 });
    expect(evaluationConfig('sentiment', { val_frac: 0.2, test_frac: 0.2, mode: 'head' })).toEqual({ val_frac: 0.2, test_frac: 0.2 });
  });
});

describe('trainer stdout protocol', () => {
  it('parses progress, phase, done and error lines and ignores anything else', () => {
    expect(parseTrainerLine('{"event":"progress","epoch":3,"step":720,"total_steps":19200,"loss":8.05,"metrics":{"val_hr@10":0.6},"eta_s":51.5}')).toEqual({
      event: 'progress', epoch: 3, step: 720, totalSteps: 19200, loss: 8.05, metrics: { 'val_hr@10': 0.6 }, etaSeconds: 51.5,
    });
    expect(parseTrainerLine('{"event":"progress","epoch":1,"step":2,"total_steps":3,"loss":null,"metrics":{},"eta_s":null}')).toMatchObject({ loss: null, etaSeconds: null });
    expect(parseTrainerLine('{"event":"phase","phase":"evaluating"}')).toEqual({ event: 'phase', phase: 'evaluating' });
    expect(parseTrainerLine('{"event":"done","artifact":"/x","metrics":{"ndcg@10":0.3}}')).toEqual({ event: 'done', artifact: '/x', version: null, metrics: { 'ndcg@10': 0.3 } });
    expect(parseTrainerLine('{"event":"error","message":"lr: 50.0 > max 1.0"}')).toEqual({ event: 'error', message: 'lr: 50.0 > max 1.0' });
    expect(parseTrainerLine('Traceback (most recent call last):')).toBeNull();
    expect(parseTrainerLine('{"event": "progress", broken')).toBeNull();
    expect(parseTrainerLine('{"event":"unknown"}')).toBeNull();
  });

  it('splits chunks into lines across chunk boundaries', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":')).toEqual([]);
    expect(s.push('1}\n{"b":2}\n{"c"')).toEqual(['{"a":1}', '{"b":2}']);
    expect(s.flush()).toEqual(['{"c"']);
  });

  it('keeps only the last lines of stderr, reading it mid-line without breaking the line', () => {
    const t = new TailBuffer(3, 1000);
    t.push('one\ntwo\nthree\nfour\nfi');
    expect(t.text()).toBe('three\nfour\nfi');
    t.push('ve\nsix\n');
    expect(t.text()).toBe('four\nfive\nsix');
  });

  it('builds the documented CLI for train and evaluate', () => {
    expect(trainerArgs({ command: 'train', kind: 'next-item', data: '/s', out: '/o', base: '/b', config: { epochs: 1 }, seed: 7 })).toEqual([
      '-m', 'meridian_trainer', 'train', '--kind', 'next-item', '--data', '/s', '--seed', '7', '--config', '{"epochs":1}', '--out', '/o', '--base', '/b',
    ]);
    expect(trainerArgs({ command: 'evaluate', kind: 'behavior', data: '/s', model: '/m', config: {}, seed: 0 })).toEqual([
      '-m', 'meridian_trainer', 'evaluate', '--kind', 'behavior', '--data', '/s', '--seed', '0', '--config', '{}', '--model', '/m',
    ]);
  });
});

describe('jobs config', () => {
  it('defaults to one job at a time and detects dead workers within a minute', () => {
    const c = loadConfig({}, '/srv/app').jobs;
    expect(c.concurrency).toBe(1);
    expect(c.deadAfterMs).toBeLessThanOrEqual(60_000);
    expect(c.trainerPython).toBe(path.resolve(__dirname, '../../trainer/.venv/bin/python')); // the installation's trainer, from any directory
    expect(c.promotionMargin).toBe(0.005);
  });

  it('refuses a dead-worker timeout over a minute or too close to the heartbeat', () => {
    expect(() => loadConfig({ MERIDIAN_JOB_DEAD_AFTER_MS: '120000' })).toThrow(/MERIDIAN_JOB_DEAD_AFTER_MS/);
    expect(() => loadConfig({ MERIDIAN_JOB_HEARTBEAT_MS: '5000', MERIDIAN_JOB_DEAD_AFTER_MS: '10000' })).toThrow(/3 ×/);
    expect(() => loadConfig({ MERIDIAN_JOB_PROMOTION_MARGIN: 'big' })).toThrow(/MERIDIAN_JOB_PROMOTION_MARGIN/);
  });
});
