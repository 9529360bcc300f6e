/** Sealed values at rest (docs/protocol.md §6): authenticated, bound to their record, never in plaintext. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aclField, bindingOf } from '../../src/store/record.js';
import { IntegrityError, Sealer } from '../../src/store/seal.js';
import { flipByte } from './fixtures.js';

const VALUE = 'hunter2-VALUE-7f3a9c';
const KEY = 'deploy-svc/DB_PASSWORD';
const LISTS = aclField({ readers: ['deploy-svc'], writers: ['deploy-svc'], deleters: ['deploy-svc'] });
const BINDING = bindingOf(KEY, 'identity', 1, LISTS);

const sealer = new Sealer(randomBytes(32));

/** Runs `open` and returns the IntegrityError it must throw (checked to be a 500 without the value). */
function openFails(s: Sealer, binding: string, sealed: Buffer, value = VALUE): IntegrityError {
  let thrown: unknown;
  try {
    s.open(binding, sealed);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(IntegrityError);
  const err = thrown as IntegrityError;
  expect(err.status).toBe(500);
  expect(err.code).toBe('internal');
  if (value !== '') expect(err.message).not.toContain(value);
  return err;
}

describe('Sealer', () => {
  it.each([
    ['ascii', VALUE],
    ['empty', ''],
    ['unicode', 'pässwörd 🔑 秘密'],
    ['64 KiB', 'x'.repeat(65_536)],
    ['binary-looking', '\u0000\u0001\uffff'],
  ])('round trips a %s value', (_label, value) => {
    expect(sealer.open(BINDING, sealer.seal(BINDING, value))).toBe(value);
  });

  it('never writes the value in the sealed bytes', () => {
    const sealed = sealer.seal(BINDING, VALUE);
    expect(sealed.indexOf(Buffer.from(VALUE, 'utf8'))).toBe(-1);
    expect(sealed.toString('latin1')).not.toContain(VALUE);
    // nor a large part of it
    expect(sealed.indexOf(Buffer.from(VALUE.slice(0, 8), 'utf8'))).toBe(-1);
  });

  it('seals the same value twice to different bytes', () => {
    const a = sealer.seal(BINDING, VALUE);
    const b = sealer.seal(BINDING, VALUE);
    expect(a.equals(b)).toBe(false);
    expect(sealer.open(BINDING, a)).toBe(VALUE);
    expect(sealer.open(BINDING, b)).toBe(VALUE);
  });

  it('fails on a flipped byte anywhere: header, nonce or box', () => {
    const sealed = sealer.seal(BINDING, VALUE);
    for (let i = 0; i < sealed.length; i++) {
      for (const mask of [0x01, 0x80]) openFails(sealer, BINDING, flipByte(sealed, i, mask));
    }
  });

  it('fails on a truncated, extended or empty record', () => {
    const sealed = sealer.seal(BINDING, VALUE);
    openFails(sealer, BINDING, sealed.subarray(0, sealed.length - 1));
    openFails(sealer, BINDING, sealed.subarray(0, 29));
    openFails(sealer, BINDING, Buffer.concat([sealed, Buffer.from([0])]));
    openFails(sealer, BINDING, Buffer.alloc(0));
  });

  it('fails for a record moved to another key', () => {
    const sealed = sealer.seal(BINDING, VALUE);
    openFails(sealer, bindingOf('deploy-svc/OTHER', 'identity', 1, LISTS), sealed);
    openFails(sealer, bindingOf('other/DB_PASSWORD', 'identity', 1, LISTS), sealed);
    openFails(sealer, bindingOf(`${KEY}x`, 'identity', 1, LISTS), sealed);
  });

  it('fails when the lists it is bound to changed', () => {
    const sealed = sealer.seal(BINDING, VALUE);
    const widened = aclField({ readers: ['deploy-svc', 'attacker'], writers: ['deploy-svc'], deleters: ['deploy-svc'] });
    const moved = aclField({ readers: ['deploy-svc'], writers: [], deleters: ['deploy-svc', 'deploy-svc'] });
    openFails(sealer, bindingOf(KEY, 'identity', 1, widened), sealed);
    openFails(sealer, bindingOf(KEY, 'identity', 1, moved), sealed);
    openFails(sealer, bindingOf(KEY, 'identity', 1, ''), sealed);
  });

  it('keeps key and lists apart in the binding (no ambiguous concatenation)', () => {
    // "a/b" + lists vs "a" + "/b..." must not produce the same binding.
    expect(bindingOf('a/b', 'identity', 1, '[]')).not.toBe(bindingOf('a', 'identity', 1, '/b[]'));
    const sealed = sealer.seal(bindingOf('a/b', 'identity', 1, LISTS), VALUE);
    openFails(sealer, bindingOf('a', 'identity', 1, `/b${LISTS}`), sealed);
  });

  it('refuses a record sealed under another key, naming both key ids but not the value', () => {
    const other = new Sealer(randomBytes(32));
    expect(other.keyIdText).not.toBe(sealer.keyIdText);
    const sealed = sealer.seal(BINDING, VALUE);
    const err = openFails(other, BINDING, sealed);
    expect(err.message).toContain(sealer.keyIdText);
    expect(err.message).toContain(other.keyIdText);
    expect(Sealer.sealingKeyIdOf(sealed)).toBe(sealer.keyIdText);
  });

  it('refuses a record whose key id was rewritten to the opener\'s key id', () => {
    const other = new Sealer(randomBytes(32));
    const sealed = Buffer.from(sealer.seal(BINDING, VALUE));
    Buffer.from(other.keyIdText, 'hex').copy(sealed, 1);
    openFails(other, BINDING, sealed);
  });

  it('opens with a second Sealer built from the same key', () => {
    const key = randomBytes(32);
    const sealed = new Sealer(key).seal(BINDING, VALUE);
    expect(new Sealer(Uint8Array.from(key)).open(BINDING, sealed)).toBe(VALUE);
  });

  it('derives a key id that does not reveal the key', () => {
    const key = randomBytes(32);
    const s = new Sealer(key);
    expect(s.keyIdText).toMatch(/^[0-9a-f]{8}$/);
    expect(key.toString('hex')).not.toContain(s.keyIdText);
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => new Sealer(randomBytes(16))).toThrow(/32 bytes/);
    expect(() => new Sealer(randomBytes(33))).toThrow(/32 bytes/);
  });
});
