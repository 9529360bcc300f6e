import { describe, expect, it } from 'vitest';
import { aclField, isoTime, newRecordFields, parseRecord, stampField } from '../../src/store/record.js';
import { IntegrityError, Sealer } from '../../src/store/seal.js';

const acl = (readers: string[], writers: string[], deleters: string[]) => ({ readers, writers, deleters });
const sealer = new Sealer(new Uint8Array(32).fill(7));
const ID = '0123456789abcdef';

/** A record as record.lua's pack returns it, from the fields a create writes. */
function packed(fields: (string | Buffer)[], withValue = true): Buffer {
  const f = new Map<string, string | Buffer>();
  for (let i = 0; i < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1]!);
  const text = ['v', 'a', 'c', 'i', 'u1'].map((n) => String(f.get(n))).join('\n');
  return Buffer.concat([Buffer.from(`${text}\n`), f.get('m') as Buffer, f.get('h1') as Buffer, ...(withValue ? [Buffer.from('B'), f.get('b1') as Buffer] : [])]);
}

describe('record fields', () => {
  it.each([
    ['all equal', acl(['a', 'b'], ['a', 'b'], ['a', 'b']), 'a,b'],
    ['all empty (admin default)', acl([], [], []), ''],
    ['different', acl(['a', 'b'], ['a'], []), 'a,b|a|'],
    ['only deleters', acl([], [], ['x']), '||x'],
  ])('lists %s are stored compactly and read back', (_label, lists, field) => {
    expect(aclField(lists)).toBe(field);
    const at = Date.UTC(2026, 10, 28, 17, 1, 25, 542);
    const parsed = parseRecord('k/a', packed(newRecordFields(sealer, 'k/a', field, stampField(at, 'deploy-svc'), 'v', ID)), sealer)!;
    expect(parsed.acl).toEqual(lists);
    expect(parsed.aclField).toBe(field);
    expect(parsed).toMatchObject({ version: 1, identity: ID, createdAt: '2026-11-28T17:01:25.542Z', createdBy: 'deploy-svc', updatedAt: '2026-11-28T17:01:25.542Z', updatedBy: 'deploy-svc' });
  });

  it('an absent record is undefined; a malformed or altered one is an IntegrityError', () => {
    expect(parseRecord('k/a', null, sealer)).toBeUndefined();
    expect(() => parseRecord('k/a', Buffer.from('1\nabc'), sealer)).toThrow(IntegrityError);
    const good = packed(newRecordFields(sealer, 'k/a', 'a', stampField(0, 'a'), 'v', ID));
    expect(() => parseRecord('k/b', good, sealer)).toThrow(IntegrityError); // bound to its key
    for (let i = 0; i < good.length - 2; i++) {
      const bad = Buffer.from(good);
      bad[i] = bad[i]! ^ 0x01;
      let opened: string | undefined;
      try {
        const r = parseRecord('k/a', bad, sealer);
        opened = r?.sealed?.openWith(sealer);
      } catch (err) {
        expect(err).toBeInstanceOf(IntegrityError);
      }
      expect(opened).toBeUndefined();
    }
  });

  it('a new record opens, and each field of a small secret stays within listpack\'s 64 bytes', () => {
    const fields = newRecordFields(sealer, 'k/a', 'a', stampField(0, 'a'), 'v4lue', ID);
    const record = parseRecord('k/a', packed(fields), sealer)!;
    expect(record.sealed!.openWith(sealer)).toBe('v4lue');
    expect(parseRecord('k/a', packed(fields, false), sealer)!.sealed).toBeUndefined();
    for (const value of fields) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);
  });
});

describe('isoTime', () => {
  it('formats exactly as Date#toISOString', () => {
    const samples = [0, 1, 999, 1764349285542, 253402300799999, 253402300800000, -1, -62167219200001, 8.64e15, -8.64e15];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor((Math.random() - 0.3) * 1e14));
    for (const ms of samples) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });
});

describe('KeyedQueue', () => {
  it('runs tasks of one key in order, one at a time, and forgets idle keys', async () => {
    const { KeyedQueue } = await import('../../src/ops/keyed-queue.js');
    const queue = new KeyedQueue();
    const log: string[] = [];
    let running = 0;
    const task = (name: string, fail = false) => async () => {
      running++;
      expect(running).toBe(1);
      await new Promise((r) => setTimeout(r, 5));
      log.push(name);
      running--;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([queue.run('k', task('a')), queue.run('k', task('b', true)), queue.run('k', task('c'))]);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await new Promise((r) => setTimeout(r, 0));
    expect(queue.size).toBe(0);
  });
});

describe('KeyedQueue bound', () => {
  it('answers 503 beyond the per-key bound, and other keys still run', async () => {
    const { KeyedQueue } = await import('../../src/ops/keyed-queue.js');
    const queue = new KeyedQueue(2);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const held = [queue.run('k', () => gate), queue.run('k', () => gate)];
    await expect(queue.run('k', async () => 'late')).rejects.toMatchObject({ status: 503 });
    expect(await queue.run('other', async () => 'ok')).toBe('ok');
    release();
    await Promise.all(held);
    expect(await queue.run('k', async () => 'again')).toBe('again');
  });

  it('answers 503 beyond the per-caller bound, across keys; other callers still run', async () => {
    const { KeyedQueue } = await import('../../src/ops/keyed-queue.js');
    const queue = new KeyedQueue(10, 2);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const held = [queue.run('a', () => gate, 'mallory'), queue.run('b', () => gate, 'mallory')];
    await expect(queue.run('c', async () => 'late', 'mallory')).rejects.toMatchObject({ status: 503 });
    expect(await queue.run('c', async () => 'ok', 'owner')).toBe('ok');
    release();
    await Promise.all(held);
    expect(await queue.run('c', async () => 'again', 'mallory')).toBe('again');
  });
});
