/**
 * Private files (mode 0600) written atomically: the text goes to a temporary file in the same
 * directory, is flushed to disk, then takes the name in one step. A reader sees the old file or
 * the new one, never a partial one, and a crash leaves no half-written file under the name.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `file` (mode 0600). `replace`: an existing file is replaced (rename);
 * otherwise an existing file is left alone and the call fails with EEXIST (link).
 */
export function writeFileAtomic(file: string, text: string, replace: boolean): void {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (replace) renameSync(temp, file);
    else linkSync(temp, file);
  } finally {
    // After a rename the temporary name is gone already; after a link (or a failure) it is removed.
    try { unlinkSync(temp); } catch { /* renamed */ }
  }
  syncDir(dir);
}

/** The new name survives a crash only once the directory is flushed too (not every system allows it). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch { /* best effort */ } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
