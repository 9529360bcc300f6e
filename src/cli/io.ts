/** Small I/O helpers: stdin, files written 0600, stdout writes that finish before exit. */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from './exit.js';

export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('enter the value, then press Ctrl-D:\n');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `echo value | …` adds one newline that is not part of the value. */
export function stripOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

/** Reads a file, or stdin for "-"; a missing file is a usage error. */
export async function readInput(file: string): Promise<string> {
  if (file === '-') return readStdin();
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Writes a private file (mode 0600); refuses to replace one unless `force`. */
export function writePrivateFile(file: string, text: string, force = false): void {
  try {
    writeFileSync(file, text, { mode: 0o600, flag: force ? 'w' : 'wx' });
    chmodSync(file, 0o600); // an existing file keeps its mode on 'w'
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw new UsageError(`${file} exists; use --force to replace it`);
    throw new UsageError(`cannot write ${file}: ${e.message}`);
  }
}

export function out(text: string): void {
  process.stdout.write(text);
}
