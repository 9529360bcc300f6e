/** A progress bar on stderr, only on a terminal and only for many items. */
import cliProgress from 'cli-progress';
import { streams } from './streams.js';

export const PROGRESS_THRESHOLD = 20;

export interface Progress {
  tick(): void;
  stop(): void;
}

export function progress(label: string, total: number, enabled = true): Progress {
  if (!enabled || !streams().stderr.isTTY || total < PROGRESS_THRESHOLD) return { tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total}`, stream: streams().stderr as NodeJS.WritableStream, clearOnComplete: false, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { tick: () => bar.increment(), stop: () => bar.stop() };
}
