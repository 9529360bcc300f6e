/** Small I/O helpers: stdin, strict UTF-8, files written 0600, confirmation, stdout/stderr writes. */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { writeFileAtomic } from './atomic-file.js';
import { UsageError } from './exit-codes.js';
import { streams } from './streams.js';

export async function readStdinBytes(): Promise<Buffer> {
  const { stdin, stderr } = streams();
  if (stdin.isTTY) stderr.write('enter the value, then press Ctrl-D:\n');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

export async function readStdin(): Promise<string> {
  return strictUtf8(await readStdinBytes(), 'stdin');
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text, refusing anything that is not valid UTF-8 (it would be changed silently). */
export function strictUtf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new UsageError(`${what} is not valid UTF-8 text; to store binary data use --base64 (stores the base64 text; \`get --base64-decode\` gives the bytes back)`);
  }
}

/** `echo value | …` adds one newline that is not part of the value. */
export function stripOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

export function readFileBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Reads a file, or stdin for "-", as UTF-8 text; a missing file is a usage error. */
export async function readInput(file: string): Promise<string> {
  if (file === '-') return readStdin();
  return strictUtf8(readFileBytes(file), file);
}

/** Writes a private file (mode 0600) atomically; refuses to replace one unless `force`. */
export function writePrivateFile(file: string, text: string, force = false): void {
  try {
    writeFileAtomic(file, text, force);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw new UsageError(`${file} exists; use --force to replace it`);
    throw new UsageError(`cannot write ${file}: ${e.message}`);
  }
}

export function out(text: string | Uint8Array): void {
  streams().stdout.write(text);
}

export function warn(text: string): void {
  streams().stderr.write(text);
}

/**
 * Asks `question` on a terminal; without one (a script, a pipe) it refuses, since nobody can
 * answer: the caller passes --yes.
 */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  const { stdin, stderr } = streams();
  if (!stdin.isTTY) throw new UsageError(`${question} — not confirmed: stdin is not a terminal; pass --yes`);
  const rl = createInterface({ input: stdin as NodeJS.ReadableStream, output: stderr as NodeJS.WritableStream });
  const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('not confirmed; nothing was changed');
}
