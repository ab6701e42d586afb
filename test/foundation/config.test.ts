import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, redactUrl } from '../../src/config/config';

describe('config', () => {
  it('uses documented defaults with an empty environment', () => {
    const c = loadConfig({}, '/srv/app');
    expect(c.port).toBe(4000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dataDir).toBe('/srv/app/data');
    expect(c.ingestMaxBatch).toBe(5000);
    expect(c.inference.cpuMemArena).toBe(false);
    expect(loadConfig({ MERIDIAN_INFERENCE_CPU_ARENA: 'true' }).inference.cpuMemArena).toBe(true);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('finds the shipped models, console and trainer from any working directory; given paths resolve against it', () => {
    const root = path.resolve(__dirname, '../..');
    const c = loadConfig({}, '/srv/elsewhere');
    expect(c.modelArtifactsDir).toBe(path.join(root, 'model-artifacts'));
    expect(fs.existsSync(path.join(c.modelArtifactsDir, 'next-item/model.onnx'))).toBe(true);
    expect(c.consoleDir).toBe(path.join(root, 'dist/console'));
    expect(c.jobs.trainerDir).toBe(path.join(root, 'trainer'));
    const given = loadConfig({ MERIDIAN_MODEL_ARTIFACTS: 'models', MERIDIAN_TRAINER_DIR: '/opt/trainer' }, '/srv/app');
    expect(given.modelArtifactsDir).toBe('/srv/app/models');
    expect(given.jobs.trainerDir).toBe('/opt/trainer');
  });

  it('fails fast naming the variable when a value is invalid', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ MERIDIAN_SEED_DEMO: 'maybe' })).toThrow(/MERIDIAN_SEED_DEMO/);
  });

  it('redacts passwords in database URLs', () => {
    expect(redactUrl('postgres://meridian:s3cret@db:5432/x')).toBe('postgres://meridian:***@db:5432/x');
    expect(redactUrl('postgres://postgres@127.0.0.1/x')).toBe('postgres://postgres@127.0.0.1/x');
  });
});
