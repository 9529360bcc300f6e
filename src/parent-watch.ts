/**
 * Stops a worker whose parent went away. `npm start` runs the worker under npm (and a shell
 * when the script does not `exec`); when npm is killed without passing the signal on, the
 * worker is re-parented and would keep serving, undrained, as an orphan. Polling the parent
 * pid is the portable way to notice (Linux's PR_SET_PDEATHSIG is not reachable from Node).
 */
const POLL_MS = 500;

/** Calls `onGone` once when this process's parent changes; the timer never keeps the process alive. */
export function watchParent(onGone: () => void): () => void {
  const parent = process.ppid;
  // Started by init (a container's PID 1 child, a daemon): there is no parent to lose.
  if (parent <= 1) return () => {};
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
