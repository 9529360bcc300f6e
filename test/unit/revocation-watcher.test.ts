/**
 * RevocationWatcher keeps the in-memory set equal to the store: loaded at start, reloaded when a
 * hint arrives or the revision moves, and never taken from a hint's content.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import {
  RevocationWatcher, revocationHintSubject, type HintBus, type RevocationEntry, type RevocationSource,
} from '../../src/revocation/index.js';
import { NatsServer } from '../helpers/servers.js';

const entry = (jti: string): RevocationEntry => ({ jti, at: '2026-01-01T00:00:00.000Z', by: 'admin' });
const subject = (jti: string) => ({ keyId: 'k', jti, slug: 'svc', issuedAtMs: 1 });

/** A store in memory, counting its reads; `broken` makes every read fail. */
class FakeStore implements RevocationSource {
  entries: RevocationEntry[] = [];
  rev = 0;
  broken = false;
  loads = 0;
  revisionReads = 0;
  set(entries: RevocationEntry[]) {
    this.entries = entries;
    this.rev += 1;
  }
  async loadAll() {
    this.loads += 1;
    if (this.broken) throw new Error('store down');
    return { entries: [...this.entries], revision: this.rev };
  }
  async revision() {
    this.revisionReads += 1;
    if (this.broken) throw new Error('store down');
    return this.rev;
  }
}

/** A bus in memory: publish calls every subscriber (as NATS does, the publisher included). */
class FakeBus implements HintBus {
  subs = new Map<string, Set<(err: Error | null, msg: unknown) => void>>();
  published: string[] = [];
  subscribe(subj: string, opts: { callback: (err: Error | null, msg: unknown) => void }) {
    const set = this.subs.get(subj) ?? new Set();
    this.subs.set(subj, set);
    set.add(opts.callback);
    return { unsubscribe: () => { set.delete(opts.callback); } };
  }
  publish(subj: string) {
    this.published.push(subj);
    for (const cb of this.subs.get(subj) ?? []) cb(null, { data: new Uint8Array() });
  }
  listeners(subj: string) {
    return this.subs.get(subj)?.size ?? 0;
  }
}

const log = () => ({ warn: vi.fn(), info: vi.fn() });
const HINT = revocationHintSubject('secret');
const watchers: RevocationWatcher[] = [];

function watcher(store: RevocationSource, bus: HintBus, o: { pollMs?: number; log?: ReturnType<typeof log> } = {}) {
  const w = new RevocationWatcher({ source: store, bus, subject: HINT, log: o.log ?? log(), pollMs: o.pollMs ?? 60_000 });
  watchers.push(w);
  return w;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
});

describe('RevocationWatcher (fakes)', () => {
  it('the hint subject is outside the op subjects', () => {
    expect(revocationHintSubject('secret')).toBe('secret.internal.revocations');
  });

  it('start loads the set once; a store that cannot be read fails start and leaves no subscription', async () => {
    const store = new FakeStore();
    store.set([entry('a')]);
    const bus = new FakeBus();
    const w = watcher(store, bus);
    await w.start();
    expect(w.set.isRevoked(subject('a'))).toBe(true);
    expect(w.set.revision).toBe(1);
    expect(bus.listeners(HINT)).toBe(1);

    const broken = new FakeStore();
    broken.broken = true;
    const bus2 = new FakeBus();
    await expect(watcher(broken, bus2).start()).rejects.toThrow('store down');
    expect(bus2.listeners(HINT)).toBe(0);
  });

  it('a hint makes it look at the revision and reload only when it moved', async () => {
    const store = new FakeStore();
    const bus = new FakeBus();
    const w = watcher(store, bus);
    await w.start();
    expect(store.loads).toBe(1);

    bus.publish(HINT); // nothing changed: one revision read, no reload
    await w.check();
    expect(store.loads).toBe(1);

    store.set([entry('a')]);
    w.notify();
    expect(bus.published).toEqual([HINT, HINT]);
    await w.check();
    expect(store.loads).toBe(2);
    expect(w.set.isRevoked(subject('a'))).toBe(true);

    store.set([]); // unrevoke
    bus.publish(HINT);
    await w.check();
    expect(w.set.isRevoked(subject('a'))).toBe(false);
  });

  it('a flood of hints costs a bounded number of store reads', async () => {
    const store = new FakeStore();
    const bus = new FakeBus();
    const w = watcher(store, bus);
    await w.start();
    const before = store.revisionReads;
    for (let i = 0; i < 1000; i++) bus.publish(HINT);
    await w.check();
    expect(store.revisionReads - before).toBeLessThanOrEqual(2);
  });

  it('the revision poll picks up a change without any hint', async () => {
    vi.useFakeTimers();
    const store = new FakeStore();
    const w = watcher(store, new FakeBus(), { pollMs: 300 });
    await w.start();
    store.set([entry('late')]);
    expect(w.set.isRevoked(subject('late'))).toBe(false);
    await vi.advanceTimersByTimeAsync(300);
    expect(w.set.isRevoked(subject('late'))).toBe(true);
  });

  it('a failing store is logged once, retried, keeps the last set, and recovery is logged', async () => {
    vi.useFakeTimers();
    const store = new FakeStore();
    store.set([entry('a')]);
    const l = log();
    const w = watcher(store, new FakeBus(), { pollMs: 300, log: l });
    await w.start();
    store.broken = true;
    await vi.advanceTimersByTimeAsync(3000); // ten failed polls
    expect(store.revisionReads).toBeGreaterThanOrEqual(10);
    expect(l.warn).toHaveBeenCalledTimes(1);
    expect(l.warn.mock.calls[0]![1]).toMatch(/cannot read revocations/);
    expect(w.set.isRevoked(subject('a'))).toBe(true);

    store.broken = false;
    store.set([]);
    await vi.advanceTimersByTimeAsync(300);
    expect(w.set.isRevoked(subject('a'))).toBe(false);
    expect(l.info).toHaveBeenCalledTimes(1);
  });

  it('a failed subscription (no message, as nats.js reports it) is logged and reads nothing', async () => {
    const store = new FakeStore();
    const bus = new FakeBus();
    const l = log();
    const w = watcher(store, bus, { log: l });
    await w.start();
    const reads = store.loads + store.revisionReads;
    for (const cb of bus.subs.get(HINT) ?? []) cb(new Error("Permissions Violation for Subscription to \"secret.internal.revocations\""), {});
    await new Promise((r) => setTimeout(r, 20));
    expect(store.loads + store.revisionReads).toBe(reads);
    expect(l.warn).toHaveBeenCalledWith(expect.objectContaining({ subject: HINT, err: expect.stringContaining('Permissions Violation') }), expect.any(String));
  });

  it('refresh reloads now and rejects when the store cannot be read; stop ends polling and hints', async () => {
    vi.useFakeTimers();
    const store = new FakeStore();
    const bus = new FakeBus();
    const w = watcher(store, bus, { pollMs: 300 });
    await w.start();
    store.entries = [entry('x')]; // even without a revision bump, refresh reads everything
    await w.refresh();
    expect(w.set.isRevoked(subject('x'))).toBe(true);
    store.broken = true;
    await expect(w.refresh()).rejects.toThrow('store down');
    store.broken = false;

    await w.stop();
    expect(bus.listeners(HINT)).toBe(0);
    const reads = store.revisionReads;
    await vi.advanceTimersByTimeAsync(3000);
    expect(store.revisionReads).toBe(reads);
  });
});

describe('RevocationWatcher over a real nats-server', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let attacker: NatsConnection;

  beforeAll(async () => {
    server = await NatsServer.start();
    [nc, attacker] = await Promise.all([connect({ servers: server.url }), connect({ servers: server.url })]);
  });

  afterAll(async () => {
    await Promise.all([nc?.close(), attacker?.close()]);
    await server?.stop();
  });

  async function until(cond: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error('condition not reached');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('a hint from another worker triggers a reload; a forged hint can neither add nor lift an entry', async () => {
    const store = new FakeStore();
    store.set([entry('keep')]);
    // Polling far away: only the hint can make these watchers look.
    const a = watcher(store, nc);
    const b = watcher(store, nc);
    await Promise.all([a.start(), b.start()]);
    await nc.flush();

    store.set([entry('keep'), entry('new')]);
    a.notify();
    await until(() => a.set.isRevoked(subject('new')) && b.set.isRevoked(subject('new')));

    // Forged: claims to revoke one credential and lift another; the store said neither.
    const loadsBefore = store.loads;
    const readsBefore = store.revisionReads;
    const forged = JSON.stringify({ revoke: { jti: 'victim' }, unrevoke: { jti: 'keep' }, revision: 999, entries: [] });
    attacker.publish(HINT, new TextEncoder().encode(forged));
    await attacker.flush();
    await until(() => store.revisionReads >= readsBefore + 2); // both watchers heard it and looked
    for (const w of [a, b]) {
      expect(w.set.isRevoked(subject('victim'))).toBe(false);
      expect(w.set.isRevoked(subject('keep'))).toBe(true);
      expect(w.set.entries()).toEqual(store.entries);
    }
    expect(store.loads).toBe(loadsBefore); // the revision had not moved: nothing was reloaded
  });
});
