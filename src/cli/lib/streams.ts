/**
 * Where a CLI run reads and writes: its environment, stdin, stdout and stderr. The bin uses the
 * process's own; tests run many CLI calls at once in one process, each with its own streams and
 * environment (AsyncLocalStorage keeps them apart).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CliStreams {
  env: Readonly<Record<string, string | undefined>>;
  stdin: AsyncIterable<Buffer | string> & { isTTY?: boolean };
  stdout: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };
  stderr: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };
  /** Set by a command whose exit code is not 0/error (e.g. `run` returns its child's status). */
  exitCode?: number;
}

const storage = new AsyncLocalStorage<CliStreams>();

const processStreams: CliStreams = {
  get env() { return process.env; },
  get stdin() { return process.stdin; },
  get stdout() { return process.stdout; },
  get stderr() { return process.stderr; },
};

export function streams(): CliStreams {
  return storage.getStore() ?? processStreams;
}

export function withStreams<T>(s: CliStreams, fn: () => Promise<T>): Promise<T> {
  return storage.run(s, fn);
}
