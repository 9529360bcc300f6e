/**
 * The change log's entries (src/store/changes.ts) and the held-watch index (src/watch/held.ts),
 * without I/O: an entry's tag covers every field; an entry under a key that left the ring is
 * told apart from an altered one; a change is matched only against the watches its readers
 * (and the administrators) hold, never every held watch; a watch held with changes already
 * matched gets at most MAX_WATCH_CHANGES of them.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/caller.js';
import { changeBody, parseChange, type ChangeEntry } from '../../src/store/changes.js';
import { IntegrityError, RetiredKeyError, Sealer } from '../../src/store/seal.js';
import { MAX_WATCH_CHANGES, type WatchReply } from '@secret-svc/protocol';
import { Later } from '../../src/later.js';
import type { ChangePage } from '../../src/store/secret-store.js';
import { changeFor, HeldWatches, type HeldWatch } from '../../src/watch/held.js';
import { WatchHub } from '../../src/watch/hub.js';

const key = () => new Uint8Array(randomBytes(32));

describe('change entries', () => {
  const k1 = key();
  const sealer = new Sealer([k1]);
  const change = { op: 'update' as const, key: 'svc/DB', version: 3, identity: '0123456789abcdef', atMs: 1_700_000_000_000, readersBefore: ['svc'], readersAfter: ['svc', 'ops'] };
  const member = changeBody(sealer, change);

  it('round-trips, at its revision', () => {
    expect(parseChange(member, 7, sealer)).toEqual({
      rev: 7, key: 'svc/DB', op: 'update', version: 3, atMs: change.atMs, readersBefore: ['svc'], readersAfter: ['svc', 'ops'],
    });
    const created = changeBody(sealer, { ...change, op: 'create', version: 1, readersBefore: undefined, readersAfter: [] });
    expect(parseChange(created, 1, sealer)).toMatchObject({ readersBefore: undefined, readersAfter: [] });
  });

  it('any altered field fails its check; a revision that is not a positive integer is malformed', () => {
    const fields = member.split('\n');
    for (let i = 0; i < 8; i++) {
      const altered = [...fields];
      altered[i] = i === 2 ? '4' : i === 4 ? (change.atMs + 1).toString(36) : i === 0 ? 'delete' : `${altered[i]}x`;
      expect(() => parseChange(altered.join('\n'), 7, sealer), `field ${i}`).toThrow(IntegrityError);
    }
    expect(() => parseChange(member, 0, sealer)).toThrow(IntegrityError);
    expect(() => parseChange(`${member}\nextra`, 7, sealer)).toThrow(IntegrityError);
  });

  it('a key that left the ring is a RetiredKeyError; a ring that still holds it checks the entry', () => {
    expect(() => parseChange(member, 7, new Sealer([key()]))).toThrow(RetiredKeyError);
    expect(parseChange(member, 7, new Sealer([key(), k1])).key).toBe('svc/DB');
  });
});

describe('held watches', () => {
  const caller = (slug: string, admin = false): Caller => ({ slug, admin, issuer: 'i', keyId: `k-${slug}-${Math.random()}`, jti: null, issuedAtMs: null, expiresAtMs: null });
  const watch = (c: Caller, filter: HeldWatch['filter'] = {}): HeldWatch => ({ caller: c, filter, since: 0, changes: [], finish: () => {} });
  const entry = (e: Partial<ChangeEntry>): ChangeEntry => ({ rev: 1, key: 'a/K', op: 'update', version: 2, atMs: 0, readersBefore: ['a'], readersAfter: ['a'], ...e });

  it('a change reaches the watches of its readers before and after, and the administrators\', never the others', () => {
    const held = new HeldWatches();
    const many = Array.from({ length: 1000 }, (_, i) => watch(caller(`s${i}`)));
    for (const w of many) held.add(w);
    const a = watch(caller('a'));
    const b = watch(caller('b'));
    const root = watch(caller('root', true));
    for (const w of [a, b, root]) held.add(w);
    const concerned = [...held.concerned(entry({ readersBefore: ['a'], readersAfter: ['b'] }))];
    expect(new Set(concerned)).toEqual(new Set([a, b, root]));
    expect(held.size).toBe(1003);
    expect(held.delete(a)).toBe(true);
    expect(held.delete(a)).toBe(false);
    expect([...held.concerned(entry({ readersAfter: undefined }))]).toEqual([root]);
  });

  it('counts per caller key', () => {
    const held = new HeldWatches();
    const c = caller('a');
    const [w1, w2] = [watch(c), watch(c)];
    held.add(w1);
    held.add(w2);
    expect(held.heldBy(c.keyId)).toBe(2);
    held.delete(w1);
    expect(held.heldBy(c.keyId)).toBe(1);
  });

  it('changeFor: the filter, then the caller\'s point of view; no version for a delete', () => {
    const a = caller('a');
    expect(changeFor(watch(a, { prefix: 'b/' }), entry({}))).toBeNull();
    expect(changeFor(watch(a, { keys: new Set(['a/X']) }), entry({}))).toBeNull();
    expect(changeFor(watch(a, { prefix: 'a/' }), entry({ rev: 5 }))).toEqual({ key: 'a/K', op: 'update', version: 2, rev: 5, at: '1970-01-01T00:00:00.000Z' });
    expect(changeFor(watch(a), entry({ readersAfter: ['z'] }))).toEqual({ key: 'a/K', op: 'delete', rev: 1, at: '1970-01-01T00:00:00.000Z' });
    expect(changeFor(watch(caller('z')), entry({}))).toBeNull();
  });
});

describe('the watch hub', () => {
  it('a watch held when more than MAX_WATCH_CHANGES changes were matched meanwhile gets the first MAX_WATCH_CHANGES, and its next request the rest', async () => {
    let entries: ChangeEntry[] = [];
    let landed = false;
    const store = {
      async changes(since: number, count: number, nonce?: unknown): Promise<ChangePage> {
        const page = (): ChangePage => {
          const after = entries.filter((e) => e.rev > since).slice(0, count);
          return { newest: entries.at(-1)?.rev ?? 0, oldest: entries[0]?.rev ?? 0, entries: after, last: after.at(-1)?.rev ?? since, dropped: 0, retired: 0 };
        };
        if (!nonce || landed) return page();
        landed = true;
        // The watch's own read sees the log before 1,500 changes land; the hub's follower
        // matches them before the watch is held.
        const seen = page();
        entries = Array.from({ length: 1500 }, (_, i) => ({
          rev: i + 1, key: `a/K${i}`, op: 'update', version: 2, atMs: 0, readersBefore: ['a'], readersAfter: ['a'],
        }));
        await (hub as unknown as { follow(): Promise<void> }).follow();
        return seen;
      },
    };
    const hub = new WatchHub({
      store, bus: { subscribe: () => ({ unsubscribe() {} }), publish() {} }, subject: 'x',
      log: { warn() {}, info() {}, error() {} }, maxWatches: 10, maxWatchesPerCaller: 10, pollMs: 3_600_000,
    });
    await hub.start();
    const me: Caller = { slug: 'a', admin: false, issuer: 'i', keyId: 'k-a', jti: null, issuedAtMs: null, expiresAtMs: null };
    const ask = (since: number) => ({
      caller: me, nonce: { callerKeyId: 'k-a', nonce: `n${since}`, ttlMs: 1, digest: '' }, filter: {}, since, waitMs: 60_000, release() {},
    });
    const settled = async (r: WatchReply | Later<WatchReply>): Promise<WatchReply> => {
      if (!(r instanceof Later)) return r;
      return new Promise((resolve, reject) => r.whenSettled((o) => (o instanceof Error ? reject(o) : resolve(o))));
    };
    try {
      const first = await settled(await hub.answer(ask(0)));
      expect(first.changes).toHaveLength(MAX_WATCH_CHANGES);
      expect(first.rev).toBe(MAX_WATCH_CHANGES);
      expect(first.changes.at(-1)).toMatchObject({ key: `a/K${MAX_WATCH_CHANGES - 1}`, rev: MAX_WATCH_CHANGES });
      const next = await settled(await hub.answer(ask(first.rev)));
      expect(next.changes.map((c) => c.rev)).toEqual(Array.from({ length: 500 }, (_, i) => MAX_WATCH_CHANGES + i + 1));
      expect(next.rev).toBe(1500);
    } finally {
      await hub.stop();
    }
  });
});
