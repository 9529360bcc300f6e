import { describe, expect, it } from 'vitest';
import { aclField, isoTime, newRecordFields, parseHashFields, parsePackedRecord, parseRecord, RECORD_FIELDS, stampField } from '../../src/store/record.js';
import { IntegrityError, Sealer } from '../../src/store/seal.js';

const acl = (readers: string[], writers: string[], deleters: string[]) => ({ readers, writers, deleters });

describe('record fields', () => {
  it.each([
    ['all equal', acl(['a', 'b'], ['a', 'b'], ['a', 'b']), 'a,b'],
    ['all empty (admin default)', acl([], [], []), ''],
    ['different', acl(['a', 'b'], ['a'], []), 'a,b|a|'],
    ['only deleters', acl([], [], ['x']), '||x'],
  ])('lists %s are stored compactly and read back', (_label, lists, field) => {
    expect(aclField(lists)).toBe(field);
    const at = Date.UTC(2026, 10, 28, 17, 1, 25, 542);
    const parsed = parseRecord(['3', field, stampField(at, 'deploy-svc'), stampField(at + 1, 'ops'), null, null])!;
    expect(parsed.acl).toEqual(lists);
    expect(parsed.aclField).toBe(field);
    expect(parsed).toMatchObject({ version: 3, createdAt: '2026-11-28T17:01:25.542Z', createdBy: 'deploy-svc', updatedAt: '2026-11-28T17:01:25.543Z', updatedBy: 'ops' });
  });

  it('an absent record is undefined; a malformed one is an IntegrityError', () => {
    expect(parseRecord([null, null, null, null, null, null])).toBeUndefined();
    const stamp = stampField(0, 'a');
    for (const bad of [['x', 'a', stamp, stamp], ['1', 'A|b', stamp, stamp], ['1', 'a|b', stamp, stamp], ['1', 'a', 'nostamp', stamp], ['1', 'a', `${'z'.repeat(20)} a`, stamp]]) {
      expect(() => parseRecord(bad)).toThrow(IntegrityError);
    }
  });

  it('a new record holds the sealed value in two fields that reassemble', () => {
    const sealer = new Sealer(new Uint8Array(32).fill(7));
    const sealed = sealer.seal('k\0a', 'v4lue');
    const fields = newRecordFields('a', stampField(0, 'a'), sealed);
    const byName = new Map<string, string | Buffer>();
    for (let i = 0; i < fields.length; i += 2) byName.set(fields[i] as string, fields[i + 1]!);
    const record = parseHashFields(RECORD_FIELDS.map((f) => byName.get(f) ?? null))!;
    expect(record.sealed!.equals(sealed)).toBe(true);
    // As the read scripts pack it: text fields, newline-separated, then the binary parts.
    const text = ['v', 'a', 'c', 'u'].map((f) => String(byName.get(f))).join('\n');
    const packed = Buffer.concat([Buffer.from(`${text}\n`), sealed]);
    expect(parsePackedRecord(packed)).toEqual(record);
    expect(parsePackedRecord(null)).toBeUndefined();
    expect(() => parsePackedRecord(Buffer.from('1\nabc'))).toThrow(IntegrityError);
    expect(sealer.open('k\0a', record.sealed!)).toBe('v4lue');
    // Each field of a small secret stays within Redis's compact (listpack) limit of 64 bytes.
    for (const value of byName.values()) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(64);
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
