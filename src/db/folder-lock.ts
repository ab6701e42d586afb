/**
 * One process per embedded data folder. The lock is a file beside the folder (`<dir>.lock`, so the
 * folder itself stays as PGlite wants it), created exclusively and holding the owner's pid, host
 * and start time. A lock whose process is gone (a crash, SIGKILL) is stale and taken over; a live
 * one refuses with a message naming the other process.
 */
import fs from 'node:fs';
import os from 'node:os';

export interface FolderLock {
  readonly file: string;
  release(): void;
}

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly command: string;
}

export class FolderInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly owner: Owner,
  ) {
    super(
      `The data folder ${dir} is in use by process ${owner.pid} (${owner.command}, started ${owner.startedAt}): ` +
        'stop it first, or point MERIDIAN_DATA_DIR elsewhere',
    );
    this.name = 'FolderInUseError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): Owner | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Owner>;
    return typeof parsed.pid === 'number' ? (parsed as Owner) : null;
  } catch {
    return null; // half-written or unreadable: treat as stale
  }
}

export function acquireFolderLock(dir: string): FolderLock {
  const file = `${dir.replace(/[/\\]+$/, '')}.lock`;
  const me: Owner = {
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    command: process.argv.slice(1, 3).join(' ') || process.argv0,
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          if (readOwner(file)?.pid === process.pid) fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(file);
      // Another host's pid means nothing here; a live pid on this host is a real owner.
      if (owner && owner.pid !== process.pid && (owner.host !== me.host || alive(owner.pid))) throw new FolderInUseError(dir, owner);
      if (owner?.pid === process.pid) throw new FolderInUseError(dir, owner);
      fs.rmSync(file, { force: true }); // stale
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
