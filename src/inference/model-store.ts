/**
 * The model store (issue 18): where registered model artifacts live, so that every server and
 * worker of a fleet can load any version wherever it was trained. Two implementations:
 * postgres-model-store.ts (the default: the database every process already shares, embedded one
 * included) and directory-model-store.ts (a directory every process mounts). A store keeps flat
 * artifacts (named files) under a key; model-files.ts puts verified artifacts in and copies them
 * out into each process's local cache, checking every file's sha256 on the way.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface StoredFile {
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
}

/** A file of an artifact on this machine, with its hash. */
export interface LocalFile extends StoredFile {
  readonly path: string;
}

export type ModelStoreScheme = 'postgres' | 'directory';

export interface ModelStore {
  /** Prefix of the locations it writes into model_versions.artifact_path (`postgres:<key>`). */
  readonly scheme: ModelStoreScheme;
  /** Stores the files under `key` (idempotent: a complete artifact under `key` is kept as it is). */
  put(key: string, files: readonly LocalFile[]): Promise<void>;
  /** The files stored under `key`, or null when there is no complete artifact under it. */
  list(key: string): Promise<StoredFile[] | null>;
  /** Writes the stored file `file` of `key` to `dest` (the caller checks its hash). */
  read(key: string, file: StoredFile, dest: string): Promise<void>;
  /** One line for /readyz; throws when the store cannot be read. */
  describe(): Promise<string>;
}

export class ModelStoreError extends Error {}

export function fileSha256(p: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(p, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n = fs.readSync(fd, buf); n > 0; n = fs.readSync(fd, buf)) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** The regular files directly in `dir`, hashed (artifacts are flat: the trainer writes nothing else). */
export function localFiles(dir: string): LocalFile[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const p = path.join(dir, e.name);
      return { name: e.name, path: p, size: fs.statSync(p).size, sha256: fileSha256(p) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Flushes a file or directory to disk where the platform allows it (directories cannot be fsynced everywhere). */
export function fsyncPath(p: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
  } catch {
    // The rename that follows is atomic all the same.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Throws unless every listed file is in `dir` with its size and sha256. */
export function checkFiles(dir: string, files: readonly StoredFile[]): void {
  for (const f of files) {
    const p = path.join(dir, f.name);
    if (!fs.existsSync(p)) throw new ModelStoreError(`${f.name} is missing`);
    if (fs.statSync(p).size !== f.size) throw new ModelStoreError(`${f.name} has ${fs.statSync(p).size} bytes, the store says ${f.size}`);
    if (fileSha256(p) !== f.sha256) throw new ModelStoreError(`${f.name} sha256 does not match the store's`);
  }
}

/** A file name an artifact may hold (flat, no path parts). */
export function isSafeFileName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name);
}

/** The same names with the same hashes, in any order. */
export function sameFiles(a: readonly StoredFile[], b: readonly StoredFile[]): boolean {
  const key = (l: readonly StoredFile[]) => l.map((f) => `${f.name}:${f.sha256}`).sort().join('|');
  return key(a) === key(b);
}
