/**
 * Runs the CLI in this process through `runCli(argv)`, capturing what it writes (no tsx child:
 * fast). Pass configuration by flags: the environment is the test process's own.
 */
import { runCli as runArgv } from '../../src/cli/program.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One call at a time: stdout and stderr are the process's, swapped for the duration. */
export async function runCli(args: string[]): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const realOut = process.stdout.write.bind(process.stdout);
  const realErr = process.stderr.write.bind(process.stderr);
  const capture = (append: (s: string) => void) => ((chunk: string | Uint8Array) => {
    append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture((s) => { stdout += s; });
  process.stderr.write = capture((s) => { stderr += s; });
  try {
    const code = await runArgv(['node', 'secret-svc', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = realOut;
    process.stderr.write = realErr;
  }
}
