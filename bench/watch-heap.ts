/**
 * What a held watch keeps in a worker's heap, by kind: a built worker in its own process
 * (bench/lib/heap-worker.mjs, what `npm start` runs), a heap snapshot before and after
 * `--held` watches are held (default 10,000, as bench/watch.ts; one caller, MessagePack,
 * 60 s wait; signed, then in a session), and the objects new in the second summed by kind
 * and divided by the watches held. bench/watch.ts reports the total (live heap per held watch); this says
 * what it is made of.
 *
 *   npm run bench:watch-heap [-- --held N]      (writes bench/results/watch-heap.txt)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildEnvelope, decodeBody, ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER, errorFromBody, errorFromStatus, privateKeyObject,
  requestHead, sniffEncoding,
} from '@secret-svc/protocol';
import { RequestChannel } from '../test/helpers/session-manager.js';
import { startStack } from '../test/helpers/stack.js';
import { forkHeapWorker, grownByKind, holdInChunks, type HeapWorker } from './lib/heap.js';
import { ROOT } from './lib/proc.js';

const heldArg = process.argv.indexOf('--held');
const HELD = heldArg > 0 ? Number(process.argv[heldArg + 1]) : 10_000;
if (!Number.isSafeInteger(HELD) || HELD < 1) throw new Error('--held takes a positive whole number');

const dir = mkdtempSync(join(tmpdir(), 'watch-heap-'));
const stack = await startStack({ extra: { SECRET_SVC_MAX_WATCHES_PER_CALLER: String(HELD), SECRET_SVC_MAX_IN_FLIGHT: '4096' } });
const lines: string[] = [`What a held watch keeps in a worker's heap: ${HELD} held, heap snapshots before and after (${new Date().toISOString().slice(0, 10)}, node ${process.versions.node})`];
const workers: HeapWorker[] = [];
try {
  // Only the forked workers answer.
  await stack.worker.stop();
  const bench = stack.issuer.caller('bench');
  const key = privateKeyObject(bench.key);
  const signed = (wait: number) => {
    const body = buildEnvelope(bench.credential, key, { ...requestHead('watch', 'secret-svc'), since: 0, wait }, 'msgpack');
    return stack.nc.request('secret.watch', body, { timeout: 90_000 });
  };
  const channel = new RequestChannel({
    identity: { credential: bench.credential, key }, encoding: 'msgpack', env: {},
    request: async (subject, body, timeoutMs) => {
      const reply = await stack.nc.request(subject, body, { timeout: timeoutMs });
      const status = reply.headers?.get(ERROR_CODE_HEADER);
      if (status) throw errorFromBody(reply.data) ?? errorFromStatus(Number(status), reply.headers?.get(ERROR_MESSAGE_HEADER) ?? '');
      return decodeBody(reply.data, sniffEncoding(reply.data));
    },
  });
  const session = (wait: number) => channel.call('watch', { since: 0, wait }, 90_000);
  for (const [mode, send] of [['signed MessagePack requests', signed], ['MessagePack requests in a session', session]] as const) {
    const worker = await forkHeapWorker(stack.env);
    workers.push(worker);
    // Warm: code paths, the credential cache, the session, the audit trail's buffers.
    await Promise.all(Array.from({ length: 200 }, () => send(0)));
    const before = join(dir, 'before.heapsnapshot');
    await worker.snapshot(before);
    const pending = await holdInChunks(HELD, () => send(60_000), () => worker.held());
    const held = await worker.held();
    const after = join(dir, 'after.heapsnapshot');
    await worker.snapshot(after);
    const grown = [...grownByKind(before, after)].sort((x, y) => y[1].bytes - x[1].bytes);
    const total = grown.reduce((sum, [, g]) => sum + g.bytes, 0);
    lines.push('', `${mode}: ${held} held, ${(total / held).toFixed(0)} bytes per held watch`, '', '  bytes/watch  objects/watch  kind');
    for (const [kind, g] of grown) {
      if (g.bytes / held < 4) continue;
      lines.push(`  ${(g.bytes / held).toFixed(0).padStart(11)}  ${(g.count / held).toFixed(2).padStart(13)}  ${kind}`);
    }
    await worker.stop();
    await Promise.all(pending);
  }
  console.log(lines.join('\n'));
} finally {
  // A failed run leaves no worker behind (it would also keep this process's stdout open).
  for (const w of workers) w.proc.kill('SIGKILL');
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(`${ROOT}bench/results/watch-heap.txt`, `${lines.join('\n')}\n`);
