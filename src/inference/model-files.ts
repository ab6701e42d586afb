/**
 * Where a registered version's files are, for this process. model_versions.artifact_path holds:
 * - a relative path: a shipped baseline under model-artifacts/ (every installation has it);
 * - `postgres:<key>` or `directory:<key>`: an artifact in the fleet's model store (model-store.ts);
 * - an absolute path: a version registered before the store existed, read where it lies.
 * keep() puts a verified artifact into the store; localDir() answers a local directory with a
 * version's files, copying them out of the store into this process's cache
 * (`<dataDir>/model-cache/<kind>/<version>@<sha>`) once, checking every file's sha256, so a server
 * that never saw the trainer's filesystem loads what the trainer made.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import type { ModelStoreConfig } from '../config/config';
import { DirectoryModelStore } from './directory-model-store';
import { checkFiles, fsyncPath, localFiles, type ModelStore, ModelStoreError, type StoredFile } from './model-store';
import { PostgresModelStore } from './postgres-model-store';

const LOCATION = /^(postgres|directory):(.+)$/;

/** The store key of an artifact: its kind, its version, and the start of its model's sha256. */
export function storeKey(kind: string, version: string, modelSha256: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(version)) throw new ModelStoreError(`manifest version "${version}" is not a safe name`);
  return `${kind}/${version}@${modelSha256.slice(0, 16)}`;
}

export function openModelStore(ds: DataSource, config: ModelStoreConfig): ModelStore {
  return config.kind === 'directory' && config.dir ? new DirectoryModelStore(config.dir) : new PostgresModelStore(ds);
}

/** The configured store, this process's cache of it, and the shipped baselines (`artifactsDir`). */
export function createModelFiles(ds: DataSource, config: ModelStoreConfig, artifactsDir: string): ModelFiles {
  return new ModelFiles(openModelStore(ds, config), config.cacheDir, artifactsDir);
}

export class ModelFiles {
  constructor(
    readonly store: ModelStore,
    /** This process's copies of stored artifacts. */
    private readonly cacheDir: string,
    /** The shipped baselines; relative locations resolve against it. */
    private readonly shippedDir: string,
  ) {}

  /**
   * Records where an artifact that passed verification lives: a shipped baseline by its relative
   * path; anything else is put into the store (idempotent) and copied into the cache. Answers the
   * location for model_versions and the local directory that holds the files from now on.
   */
  async keep(kind: string, version: string, modelSha256: string, dir: string): Promise<{ location: string; dir: string }> {
    const abs = path.resolve(dir);
    const rel = path.relative(this.shippedDir, abs);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return { location: rel, dir: abs };
    const key = storeKey(kind, version, modelSha256);
    const files = localFiles(abs);
    await this.store.put(key, files);
    const cached = path.join(this.cacheDir, key);
    if (!fs.existsSync(cached)) {
      await this.install(cached, files, (f, dest) => {
        fs.copyFileSync(path.join(abs, f.name), dest);
        return Promise.resolve();
      });
    }
    return { location: `${this.store.scheme}:${key}`, dir: cached };
  }

  /** A local directory holding the files recorded at `location` (fetched from the store when not cached or damaged). */
  async localDir(location: string): Promise<string> {
    const stored = this.parse(location);
    if (!stored) return path.resolve(this.shippedDir, location);
    const files = await this.store.list(stored.key);
    if (!files) throw new ModelStoreError(`${location} is not in the model store`);
    const cached = path.join(this.cacheDir, stored.key);
    if (fs.existsSync(cached)) {
      try {
        checkFiles(cached, files);
        return cached;
      } catch {
        fs.rmSync(cached, { recursive: true, force: true }); // damaged: fetch it again
      }
    }
    await this.install(cached, files, (f, dest) => this.store.read(stored.key, f, dest));
    return cached;
  }

  /** The names of the files recorded at `location`. */
  async fileNames(location: string): Promise<string[]> {
    const stored = this.parse(location);
    if (stored) return ((await this.store.list(stored.key)) ?? []).map((f) => f.name);
    const dir = path.resolve(this.shippedDir, location);
    return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  }

  private parse(location: string): { key: string } | null {
    const m = LOCATION.exec(location);
    if (!m) return null;
    if (m[1] !== this.store.scheme) {
      throw new ModelStoreError(`${location} is in the ${m[1]} model store, and this process uses the ${this.store.scheme} one (MERIDIAN_MODEL_STORE)`);
    }
    return { key: m[2]! };
  }

  /** Writes the files into a temp directory beside `target`, checks them, and renames it into place. */
  private async install(target: string, files: readonly StoredFile[], write: (f: StoredFile, dest: string) => Promise<void>): Promise<void> {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${crypto.randomBytes(6).toString('hex')}`;
    try {
      fs.mkdirSync(tmp);
      for (const f of files) await write(f, path.join(tmp, f.name));
      checkFiles(tmp, files);
      fsyncPath(tmp);
      fs.renameSync(tmp, target);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      // Another load in this process (or a sibling process on the same cache) got there first.
      if (fs.existsSync(target)) {
        checkFiles(target, files);
        return;
      }
      throw err;
    }
  }
}
