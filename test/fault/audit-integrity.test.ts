/**
 * The audit stream's integrity (docs/protocol.md §15), against a serving worker: an admin who
 * replaces the trail with a weakened one (memory storage, one message, purge allowed) gets a
 * worker that answers writes 503 and logs what was weakened, and that changes nothing; once
 * the stream is restored the worker serves again, and the writes it applied meanwhile (whose
 * callers got 503) are in the trail as applied (status 200) next to their 503s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageType, type JetStreamManager, type StreamConfig } from 'nats';
import { streamConfig } from '../../src/audit/index.js';
import { eventually, storedEvents } from '../audit/support.js';
import { startStackWithLoggedWorker, type Stack } from '../helpers/stack.js';
import type { startLoggedWorker } from '../helpers/worker.js';
import { call, expectError, expectOk, request, statusOf, waitFor } from '../helpers/wire.js';

const STREAM = 'SECRET_SVC_AUDIT';
let stack: Stack;
let worker: Awaited<ReturnType<typeof startLoggedWorker>>;
let jsm: JetStreamManager;

beforeAll(async () => {
  ({ stack, worker } = await startStackWithLoggedWorker({ auditCheckMs: 200 }));
  jsm = await stack.nc.jetstreamManager();
});
afterAll(async () => {
  await worker?.stop();
  await stack?.stop();
});

/** What an admin with the JetStream API does: the stream deleted and made again as `config` (retried if a worker re-created it first). */
async function replaceStream(config: Partial<StreamConfig> & { name: string }, is: (c: StreamConfig) => boolean): Promise<void> {
  await waitFor(async () => {
    await jsm.streams.delete(STREAM).catch(() => {});
    await jsm.streams.add(config).catch(() => {});
    return is((await jsm.streams.info(STREAM)).config);
  }, 10_000, 10);
}

describe('a weakened audit stream', { timeout: 120_000 }, () => {
  it('writes get 503 and the log names what was weakened; the worker changes nothing; restored, it serves again and the applied writes are recorded as applied', async () => {
    const owner = stack.issuer.caller('weak-svc');
    expectOk(await call(stack.nc, owner, request('create', { key: 'weak-svc/BEFORE', value: 'v' }), 'json'), 'json');
    expect((await jsm.streams.info(STREAM)).config).toMatchObject({ storage: StorageType.File, deny_delete: true, deny_purge: true });

    const weak = { name: STREAM, subjects: ['secret.audit.>'], storage: StorageType.Memory, max_msgs: 1, deny_purge: false, deny_delete: false };
    await replaceStream(weak, (c) => c.storage === StorageType.Memory);

    // Within a few checks every reply that waits for the trail is 503.
    await waitFor(async () => statusOf(await call(stack.nc, owner, request('read', { key: 'weak-svc/BEFORE' }), 'json')) === 503, 10_000);
    // Events published before the check saw it may be in there; from now on none is.
    const seenSeq = (await jsm.streams.info(STREAM)).state.last_seq;
    const create = await call(stack.nc, owner, request('create', { key: 'weak-svc/DURING', value: 'd' }), 'json');
    expectError(create, 503, 'json');
    expectError(await call(stack.nc, owner, request('update', { key: 'weak-svc/BEFORE', value: 'v2' }), 'msgpack'), 503, 'msgpack');
    // Replies that carry no value and change nothing are still answered.
    expect(expectOk(await call(stack.nc, owner, request('whoami'), 'json'), 'json')).toMatchObject({ slug: 'weak-svc' });

    const logged = worker.logged.filter((l) => l.level === 50 && String(l.msg).includes('is weakened'));
    expect(logged).toHaveLength(1);
    expect(String(logged[0]!.msg)).toMatch(/storage is memory, not file/);
    expect(String(logged[0]!.msg)).toMatch(/max_msgs is 1, tighter than unlimited/);
    expect(String(logged[0]!.msg)).toMatch(/deny_purge is off/);
    expect(String(logged[0]!.msg)).toMatch(/deny_delete is off/);

    // Nothing went into the weakened stream, and the worker left it as it is.
    await new Promise((r) => setTimeout(r, 600));
    const info = await jsm.streams.info(STREAM);
    expect(info.config).toMatchObject({ storage: StorageType.Memory, max_msgs: 1, deny_purge: false, deny_delete: false });
    expect(info.state.last_seq).toBe(seenSeq);

    // An operator restores it: the worker serves again without a restart.
    const restored = streamConfig(worker.config.audit, 'secret');
    await replaceStream(restored, (c) => c.storage === StorageType.File && c.deny_purge === true);
    await waitFor(async () => statusOf(await call(stack.nc, owner, request('read', { key: 'weak-svc/DURING' }), 'json')) === 200, 10_000);
    expect(worker.logged.some((l) => String(l.msg).includes('is weakened'))).toBe(true);

    // The writes applied while it was weakened are in the trail as applied, beside the 503s their callers got.
    const summary = async (key: string, op: string) => (await storedEvents(jsm)).map((s) => s.event)
      .filter((e) => e.key === key && e.op === op).map((e) => `${e.status}${e.version ? ` v${e.version}` : ''}`).sort();
    await eventually('the applied create and update stored', async () =>
      (await summary('weak-svc/DURING', 'create')).join() === '200 v1,503' && (await summary('weak-svc/BEFORE', 'update')).join() === '200 v2,503');
    expect(expectOk(await call(stack.nc, owner, request('read', { key: 'weak-svc/BEFORE' }), 'json'), 'json')).toMatchObject({ value: 'v2', version: 2 });
  });
});
