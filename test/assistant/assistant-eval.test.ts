/**
 * The assistant's scripted evaluation (issue 20): 250+ multi-turn conversations over the demo data
 * with phrasings written for this test (not the intent model's training data), through GraphQL.
 * Targets: reference resolution ≥ 95%, grounding correctness 100%, no other user's data. Intent
 * accuracy, policy retrieval and handoff precision/recall are reported (docs/assistant.md).
 * MERIDIAN_ASSISTANT_PHRASES=dev runs the development phrasings instead (for tuning).
 */
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../helpers/app';
import { DEV, EVAL } from './phrasings';
import { runEval } from './eval-harness';

const t = useTestApp(process.env.MERIDIAN_MODEL_ARTIFACTS ? { MERIDIAN_MODEL_ARTIFACTS: process.env.MERIDIAN_MODEL_ARTIFACTS } : {});

it('answers scripted conversations with resolved references and only grounded facts', async () => {
  const dev = process.env.MERIDIAN_ASSISTANT_PHRASES === 'dev';
  const report = await runEval(t.app, t.db.dataSource, dev ? DEV : EVAL, dev ? 7 : 1);
  const out = process.env.MERIDIAN_ASSISTANT_EVAL_OUT;
  if (out) fs.writeFileSync(path.resolve(out), JSON.stringify(report, null, 2));
  const { failures, ...scores } = report;
   
  console.log(JSON.stringify(scores), failures.slice(0, 25).join('\n'));
  expect(report.conversations).toBeGreaterThanOrEqual(200);
  expect(report.leaks).toBe(0);
  expect(report.groundingCorrect).toBe(1);
  expect(report.referenceAccuracy).toBeGreaterThanOrEqual(0.95);
  expect(report.handoffRecall).toBeGreaterThanOrEqual(0.8);
}, 600_000);
