/**
 * The model store in a directory every server and worker mounts (MERIDIAN_MODEL_STORE=directory,
 * MERIDIAN_MODEL_STORE_DIR), for fleets that keep large files out of the database: an artifact is
 * `<dir>/<key>/` with its files and an index of their hashes. A put copies into a hidden temp
 * directory, flushes it, checks it, and renames it into place, so a reader sees no artifact or a
 * complete one; an existing directory under the key is reused only if its files match.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  checkFiles, fsyncPath, isSafeFileName, type LocalFile, type ModelStore, ModelStoreError, sameFiles, type StoredFile,
} from './model-store';

/** Not a name an artifact file may have (isSafeFileName), so it never collides with one. */
const INDEX = '.meridian-files.json';
const TEMP_PREFIX = '.tmp-';

export class DirectoryModelStore implements ModelStore {
  readonly scheme = 'directory' as const;

  constructor(readonly root: string) {}

  async put(key: string, files: readonly LocalFile[]): Promise<void> {
    const target = this.dirOf(key);
    const parent = path.dirname(target);
    fs.mkdirSync(parent, { recursive: true });
    const existing = await this.list(key);
    if (existing) {
      if (!sameFiles(existing, files)) throw new ModelStoreError(`the store already holds different files under ${key}`);
      try {
        checkFiles(target, existing);
        return;
      } catch {
        // Damaged in place: set it aside and store afresh.
        fs.renameSync(target, path.join(parent, `${TEMP_PREFIX}replaced-${crypto.randomBytes(4).toString('hex')}`));
      }
    }
    const tmp = path.join(parent, `${TEMP_PREFIX}${crypto.randomBytes(6).toString('hex')}`);
    try {
      fs.mkdirSync(tmp);
      for (const f of files) {
        if (!isSafeFileName(f.name)) throw new ModelStoreError(`"${f.name}" is not a file name an artifact may hold`);
        const dest = path.join(tmp, f.name);
        fs.copyFileSync(f.path, dest);
        fsyncPath(dest);
      }
      const listed: StoredFile[] = files.map(({ name, sha256, size }) => ({ name, sha256, size }));
      checkFiles(tmp, listed);
      fs.writeFileSync(path.join(tmp, INDEX), JSON.stringify(listed));
      fsyncPath(path.join(tmp, INDEX));
      fs.renameSync(tmp, target);
      fsyncPath(parent);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      // Another process stored the same key meanwhile: theirs is as good as ours.
      const raced = await this.list(key).catch(() => null);
      if (raced && sameFiles(raced, files)) return;
      throw err;
    }
  }

  list(key: string): Promise<StoredFile[] | null> {
    const index = path.join(this.dirOf(key), INDEX);
    if (!fs.existsSync(index)) return Promise.resolve(null);
    return Promise.resolve(JSON.parse(fs.readFileSync(index, 'utf8')) as StoredFile[]);
  }

  read(key: string, file: StoredFile, dest: string): Promise<void> {
    fs.copyFileSync(path.join(this.dirOf(key), file.name), dest);
    return Promise.resolve();
  }

  describe(): Promise<string> {
    fs.mkdirSync(this.root, { recursive: true });
    fs.accessSync(this.root, fs.constants.R_OK | fs.constants.W_OK);
    return Promise.resolve(`directory ${this.root}`);
  }

  private dirOf(key: string): string {
    const dir = path.resolve(this.root, key);
    if (!dir.startsWith(path.resolve(this.root) + path.sep)) throw new ModelStoreError(`store key ${key} leaves the store`);
    return dir;
  }
}
