/** `secret-svc dev --print-worker-env`: the environment the last start of dev wrote (state.ts, workerEnvFile). */
import { readFileSync } from 'node:fs';
import { DEFAULT_DEV_DIR } from '../commands/dev.js';
import { CliError, EXIT } from '../lib/exit-codes.js';
import { out } from '../lib/io.js';
import { workerEnvFile } from './state.js';

export function printWorkerEnv(dir: string): void {
  const file = workerEnvFile(dir);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`no ${file}: start \`secret-svc dev${dir === DEFAULT_DEV_DIR ? '' : ` --dir ${dir}`}\` first; it writes the environment there`, EXIT.notFound);
  }
  out(text);
}
