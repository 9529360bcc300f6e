/**
 * What a held watch keeps in a worker's heap, by kind: a built worker in its own process
 * (bench/lib/heap-worker.mjs, what `npm start` runs), a heap snapshot before and after
 * `--held` watches are held (default 10,000, as bench/watch.ts; one caller, msgpack,
 * signed, 60 s wait), and the objects new in the second summed by kind and divided by the
 * watches held. bench/watch.ts reports the total (live heap per held watch); this says
 * what it is made of.
 *
 *   npm run bench:watch-heap [-- --held N]      (writes bench/results/watch-heap.txt)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEnvelope, privateKeyObject, requestHead } from '@secret-svc/protocol';
import { startStack } from '../test/helpers/stack.js';
import { forkHeapWorker, grownByKind } from './lib/heap.js';
import { ROOT } from './lib/proc.js';

const heldArg = process.argv.indexOf('--held');
const HELD = heldArg > 0 ? Number(process.argv[heldArg + 1]) : 10_000;
if (!Number.isSafeInteger(HELD) || HELD < 1) throw new Error('--held takes a positive whole number');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'watch-heap-'));
const stack = await startStack({ extra: { SECRET_SVC_MAX_WATCHES_PER_CALLER: String(HELD), SECRET_SVC_MAX_IN_FLIGHT: '4096' } });
const lines: string[] = [];
try {
  // Only the forked worker answers.
  await stack.worker.stop();
  const worker = await forkHeapWorker(stack.env);
  const bench = stack.issuer.caller('bench');
  const key = privateKeyObject(bench.key);
  const watch = (wait: number) => buildEnvelope(bench.credential, key, { ...requestHead('watch', 'secret-svc'), since: 0, wait }, 'msgpack');
  // Warm: code paths, the credential cache, the audit trail's buffers.
  await Promise.all(Array.from({ length: 200 }, () => stack.nc.request('secret.watch', watch(0), { timeout: 10_000 })));
  const bodies = Array.from({ length: HELD }, () => watch(60_000));
  const before = join(dir, 'before.heapsnapshot');
  await worker.snapshot(before);
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < HELD; i += 250) {
    pending.push(...bodies.slice(i, i + 250).map((b) => stack.nc.request('secret.watch', b, { timeout: 90_000 }).catch(() => undefined)));
    for (let t = 0; t < 100 && (await worker.held()) < Math.min(HELD, i + 250); t++) await sleep(20);
  }
  const held = await worker.held();
  const after = join(dir, 'after.heapsnapshot');
  await worker.snapshot(after);
  const grown = [...grownByKind(before, after)].sort((x, y) => y[1].bytes - x[1].bytes);
  const total = grown.reduce((sum, [, g]) => sum + g.bytes, 0);
  lines.push(`What a held watch keeps in a worker's heap: ${held} held, heap snapshots before and after (${new Date().toISOString().slice(0, 10)}, node ${process.versions.node})`);
  lines.push(`total ${(total / held).toFixed(0)} bytes per held watch`);
  lines.push('');
  lines.push('  bytes/watch  objects/watch  kind');
  for (const [kind, g] of grown) {
    if (g.bytes / held < 4) continue;
    lines.push(`  ${(g.bytes / held).toFixed(0).padStart(11)}  ${(g.count / held).toFixed(2).padStart(13)}  ${kind}`);
  }
  console.log(lines.join('\n'));
  await worker.stop();
  await Promise.all(pending);
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(`${ROOT}bench/results/watch-heap.txt`, `${lines.join('\n')}\n`);
