/**
 * The assistant's scripted evaluation (issue 20): 250+ multi-turn conversations over the demo data
 * with phrasings written for this test (not the intent model's training data), through GraphQL.
 * Must hold: grounding correctness 100%, no other user's data. Reference resolution (issue target
 * ≥ 95%), intent accuracy, policy retrieval and handoff precision/recall are measured and reported
 * in trainer/RESULTS.md; the test keeps floors under the measured numbers so a regression fails.
 * MERIDIAN_ASSISTANT_PHRASES=dev runs the development phrasings instead (for tuning);
 * MERIDIAN_ASSISTANT_EVAL_SEED picks another sample of users, choices and phrasings.
 */
import fs from 'node:fs';
import path from 'node:path';
import { useTestApp } from '../helpers/app';
import { DEV, EVAL } from './phrasings';
import { runEval } from './eval-harness';

const t = useTestApp(process.env.MERIDIAN_MODEL_ARTIFACTS ? { MERIDIAN_MODEL_ARTIFACTS: process.env.MERIDIAN_MODEL_ARTIFACTS } : {});

it('answers scripted conversations with resolved references and only grounded facts', async () => {
  const dev = process.env.MERIDIAN_ASSISTANT_PHRASES === 'dev';
  const seed = Number(process.env.MERIDIAN_ASSISTANT_EVAL_SEED ?? (dev ? 7 : 1));
  const report = await runEval(t.app, t.db.dataSource, dev ? DEV : EVAL, seed);
  const out = process.env.MERIDIAN_ASSISTANT_EVAL_OUT;
  if (out) fs.writeFileSync(path.resolve(out), JSON.stringify(report, null, 2));
  const { failures, ...scores } = report;
   
  console.log(JSON.stringify(scores), failures.slice(0, 25).join('\n'));
  expect(report.conversations).toBeGreaterThanOrEqual(200);
  // must hold: no other user's data, and every stated fact grounded and equal to the database
  expect(report.leaks).toBe(0);
  expect(report.groundingCorrect).toBe(1);
  // regression floors under the measured evaluation numbers (trainer/RESULTS.md); the 95%
  // reference-resolution target is a benchmark target, reported there (met on DEV, not on EVAL)
  expect(report.referenceAccuracy).toBeGreaterThanOrEqual(0.8);
  expect(report.intentAccuracy).toBeGreaterThanOrEqual(0.8);
  expect(report.handoffRecall).toBeGreaterThanOrEqual(0.9);
}, 600_000);
