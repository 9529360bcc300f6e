/**
 * A worker in a forked process that reports its live memory over IPC, run from the build
 * (dist/, what `npm start` runs: no tsx helpers in the heap). On 'heap' it collects garbage
 * and answers process.memoryUsage(); 'held' answers how many watches it holds; 'snap:<file>' writes a heap snapshot. Needs --expose-gc
 * and `npm run build` (bench/watch.ts forks it).
 */
import { writeHeapSnapshot } from 'node:v8';
import { loadConfig } from '../../dist/src/config.js';
import { createLogger } from '../../dist/src/log.js';
import { startWorker } from '../../dist/src/worker.js';

const worker = await startWorker(loadConfig(process.env), createLogger('silent'));
process.on('message', (m) => {
  if (m === 'heap') {
    globalThis.gc?.();
    globalThis.gc?.();
    process.send({ memory: process.memoryUsage(), held: worker.watches.heldCount });
  } else if (m === 'held') {
    process.send({ held: worker.watches.heldCount });
  } else if (typeof m === 'string' && m.startsWith('snap:')) {
    globalThis.gc?.();
    process.send({ file: writeHeapSnapshot(m.slice(5)) });
  } else if (m === 'stop') {
    void worker.stop().then(() => process.exit(0));
  }
});
process.send('ready');
