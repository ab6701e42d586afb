/**
 * The store of fine-tuned models: `<dataDir>/models/<kind>/<version>/`. An artifact is copied into
 * a hidden temp directory, flushed, re-verified against its manifest's sha256 sums, and renamed
 * into place, so a reader (the registry, a crash survivor) sees no directory or a complete one.
 * A directory that already exists under the final name is reused only if it verifies.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MODEL_KINDS, type ModelKind } from '../inference/model-kind';
import type { ModelVersionRecord } from '../inference/model-version.repository';

const TEMP_PREFIX = '.tmp-job';

export class ArtifactStoreError extends Error {}

/** The registry's file checks (ModelRegistry.checkArtifact): throws unless `dir` holds an artifact with model sha256 `expectedSha`; answers its manifest's version. */
export type ArtifactCheck = (kind: ModelKind, dir: string, expectedSha: string) => { readonly manifest: { readonly version: string } };

/** A registered version's directory: relative paths (shipped baselines) resolve against `artifactsDir`. */
export function versionDir(record: ModelVersionRecord, artifactsDir: string): string {
  return path.resolve(artifactsDir, record.artifactPath);
}

function fsyncPath(p: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Directories cannot be fsynced on every platform; the rename is still atomic.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

export class ArtifactStore {
  constructor(
    readonly root: string,
    private readonly check: ArtifactCheck,
  ) {}

  dirFor(kind: ModelKind, version: string): string {
    return path.join(this.root, kind, version);
  }

  /**
   * Stores the artifact in `src` (already checked by the caller: its manifest version and model
   * sha256) and returns its final directory. Idempotent: a retry of the same job finds the verified
   * directory and returns it.
   */
  store(kind: ModelKind, src: string, jobId: string, artifact: { readonly version: string; readonly sha256: string }): string {
    const version = artifact.version;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(version)) throw new ArtifactStoreError(`manifest version "${version}" is not a safe directory name`);
    const kindDir = path.join(this.root, kind);
    const target = path.join(kindDir, version);
    fs.mkdirSync(kindDir, { recursive: true });
    if (fs.existsSync(target)) {
      try {
        this.verify(kind, target, artifact);
        return target;
      } catch {
        // A directory that does not verify is not ours to serve: set it aside and store afresh.
        fs.renameSync(target, path.join(kindDir, `${TEMP_PREFIX}${jobId}-replaced-${crypto.randomBytes(4).toString('hex')}`));
      }
    }
    const tmp = path.join(kindDir, `${TEMP_PREFIX}${jobId}-${crypto.randomBytes(4).toString('hex')}`);
    try {
      fs.mkdirSync(tmp);
      for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
        if (!entry.isFile()) continue; // artifacts are flat; the trainer writes nothing else
        const dest = path.join(tmp, entry.name);
        fs.copyFileSync(path.join(src, entry.name), dest);
        fsyncPath(dest);
      }
      // The copy must hash exactly like the manifest (and like what was checked in `src`).
      this.verify(kind, tmp, artifact);
      fs.renameSync(tmp, target);
      fsyncPath(kindDir);
      return target;
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** The copy in `dir` is the artifact: same model bytes, same manifest version. */
  private verify(kind: ModelKind, dir: string, artifact: { readonly version: string; readonly sha256: string }): void {
    const found = this.check(kind, dir, artifact.sha256).manifest.version;
    if (found !== artifact.version) throw new ArtifactStoreError(`${dir} holds version ${found}, expected ${artifact.version}`);
  }

  /** Removes temp directories a job's earlier (crashed) attempts left behind. */
  removeTemps(jobId: string): void {
    for (const kind of MODEL_KINDS) {
      const kindDir = path.join(this.root, kind);
      if (!fs.existsSync(kindDir)) continue;
      for (const name of fs.readdirSync(kindDir)) {
        if (name.startsWith(`${TEMP_PREFIX}${jobId}-`)) fs.rmSync(path.join(kindDir, name), { recursive: true, force: true });
      }
    }
  }
}
