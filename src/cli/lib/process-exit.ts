/**
 * One-shot commands exit as soon as they are done (a NATS socket left half-open after a connect
 * timeout must not keep the process alive); `serve` and `dev` keep running after their action.
 */
let longRunning = false;

export function keepRunning(): void {
  longRunning = true;
}

/** Exits with `code` once stdout and stderr have taken everything written so far. */
export function finish(code: number): void {
  if (longRunning && code === 0) return;
  let pending = 2;
  const done = () => { if (--pending === 0) process.exit(code); };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
