/** Strict wire parsing (docs/protocol.md §3–5): envelopes, encoding sniffing, request schemas, errors. */
import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import {
  BadRequestError, ConflictError, describeIssue, ERROR_CODES, errorFromBody, errorFromStatus, ForbiddenError,
  InternalError, NotFoundError, parseEnvelope, requestSchemas, SecretSvcError, sniffEncoding, TooLargeError,
  UnauthenticatedError, UnavailableError, UndecodableBodyError, type Encoding, type Op,
} from '@secret-svc/protocol/internal';
import { readEnvelope } from '../../src/auth/authenticate.js';
import { readRequest } from '../helpers/request-object.js';
import { loadVectors, thrownBy } from './fixtures.js';

const v = loadVectors();
const CRED = v.credential.text;
const SIG64 = Buffer.from(v.msgpack.sigHex, 'hex');
const JSON_SIG = v.json.sig;

const jsonBody = (obj: unknown) => Buffer.from(JSON.stringify(obj), 'utf8');
const validJson = { cred: CRED, payload: v.json.payload, sig: JSON_SIG };
const validMsgpack = { cred: CRED, payload: Buffer.from(v.msgpack.payloadHex, 'hex'), sig: SIG64 };

/** parseEnvelope must refuse with a 400 that is not "undecodable" (the body was readable). */
function expectBadEnvelope(body: Uint8Array, encoding: Encoding): BadRequestError {
  const err = thrownBy(() => parseEnvelope(body, encoding));
  expect(err).toBeInstanceOf(BadRequestError);
  expect(err).not.toBeInstanceOf(UndecodableBodyError);
  expect(err).toMatchObject({ status: 400, code: 'bad_request' });
  return err as BadRequestError;
}
function expectUndecodable(body: Uint8Array, encoding: Encoding): void {
  const err = thrownBy(() => parseEnvelope(body, encoding));
  expect(err).toBeInstanceOf(UndecodableBodyError);
  expect(err).toMatchObject({ status: 400, code: 'bad_request' });
}

describe('parseEnvelope (JSON)', () => {
  it('accepts the valid envelope', () => {
    const env = parseEnvelope(jsonBody(validJson), 'json');
    expect(env.cred).toBe(CRED);
    expect(Buffer.from(env.payload).toString('utf8')).toBe(v.json.payload);
    expect(env.sig).toHaveLength(64);
  });

  it('accepts leading and trailing white space around the object', () => {
    expect(parseEnvelope(Buffer.from(` \n\t${JSON.stringify(validJson)}\r\n`), 'json').cred).toBe(CRED);
  });

  it.each<[string, Record<string, unknown>]>([
    ['unknown field', { ...validJson, extra: 1 }],
    ['unknown field __proto__', { ...validJson, ['__proto__']: { x: 1 } }],
    ['missing cred', { payload: validJson.payload, sig: JSON_SIG }],
    ['missing payload', { cred: CRED, sig: JSON_SIG }],
    ['missing sig', { cred: CRED, payload: validJson.payload }],
    ['cred a number', { ...validJson, cred: 42 }],
    ['cred too long', { ...validJson, cred: `${'a'.repeat(9000)}.b.c` }],
    ['payload an object', { ...validJson, payload: v.request }],
    ['payload null', { ...validJson, payload: null }],
    ['sig a number', { ...validJson, sig: 7 }],
    ['sig an array of bytes', { ...validJson, sig: [...SIG64] }],
    ['sig of 63 bytes', { ...validJson, sig: SIG64.subarray(0, 63).toString('base64url') }],
    ['sig of 65 bytes', { ...validJson, sig: Buffer.concat([SIG64, Buffer.from([0])]).toString('base64url') }],
    ['sig empty', { ...validJson, sig: '' }],
    ['sig with padding', { ...validJson, sig: `${JSON_SIG}==` }],
    ['sig in standard base64', { ...validJson, sig: SIG64.toString('base64') }],
    ['sig in hex', { ...validJson, sig: SIG64.toString('hex') }],
  ])('refuses %s with 400', (_label, obj) => {
    expectBadEnvelope(jsonBody(obj), 'json');
  });

  it.each([
    ['array', '[1,2]'],
    ['string', '"x"'],
    ['number', '12'],
    ['null', 'null'],
    ['true', 'true'],
  ])('refuses a non-object body (%s) with 400', (_label, text) => {
    expectBadEnvelope(Buffer.from(text), 'json');
  });

  it.each([
    ['truncated JSON', Buffer.from(JSON.stringify(validJson).slice(0, -1))],
    ['not JSON', Buffer.from('{nope}')],
    ['empty', Buffer.alloc(0)],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"cred":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])],
    ['trailing garbage', Buffer.from(`${JSON.stringify(validJson)}x`)],
  ])('refuses %s as undecodable', (_label, body) => {
    expectUndecodable(body, 'json');
  });

  it('names an unknown field without echoing values', () => {
    const err = expectBadEnvelope(jsonBody({ ...validJson, zzextra: 'hunter2-VALUE' }), 'json');
    expect(err.message).toContain('zzextra');
    expect(err.message).not.toContain('hunter2-VALUE');
  });
});

describe('parseEnvelope (MessagePack)', () => {
  it('accepts the valid envelope', () => {
    const env = parseEnvelope(encode(validMsgpack), 'msgpack');
    expect(env.cred).toBe(CRED);
    expect(Buffer.from(env.payload).equals(validMsgpack.payload)).toBe(true);
    expect(Buffer.from(env.sig).equals(SIG64)).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ['unknown field', { ...validMsgpack, extra: 1 }],
    ['missing payload', { cred: CRED, sig: SIG64 }],
    ['missing sig', { cred: CRED, payload: validMsgpack.payload }],
    ['cred as bin', { ...validMsgpack, cred: Buffer.from(CRED) }],
    ['payload str instead of bin', { ...validMsgpack, payload: v.json.payload }],
    ['payload a map', { ...validMsgpack, payload: v.request }],
    ['sig str (base64url) instead of bin', { ...validMsgpack, sig: JSON_SIG }],
    ['sig bin of 63 bytes', { ...validMsgpack, sig: SIG64.subarray(0, 63) }],
    ['sig bin of 65 bytes', { ...validMsgpack, sig: Buffer.concat([SIG64, Buffer.from([0])]) }],
    ['sig an array', { ...validMsgpack, sig: [...SIG64] }],
  ])('refuses %s with 400', (_label, obj) => {
    expectBadEnvelope(encode(obj), 'msgpack');
  });

  it('refuses a map with an integer key', () => {
    // fixmap{1: "x"}
    expectBadEnvelope(Buffer.from([0x81, 0x01, 0xa1, 0x78]), 'msgpack');
  });

  it.each<[string, unknown]>([
    ['array', [CRED, validMsgpack.payload, SIG64]],
    ['str', CRED],
    ['bin', SIG64],
    ['int', 5],
    ['nil', null],
  ])('refuses a non-map body (%s) with 400', (_label, value) => {
    expectBadEnvelope(encode(value), 'msgpack');
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['never-used byte 0xc1', Buffer.from([0xc1])],
    ['truncated', Buffer.from(encode(validMsgpack)).subarray(0, 40)],
    ['trailing bytes', Buffer.concat([encode(validMsgpack), Buffer.from([0x00])])],
    ['JSON text sent as MessagePack', Buffer.from(`x${JSON.stringify(validJson)}`)],
  ])('refuses %s as undecodable', (_label, body) => {
    expectUndecodable(body, 'msgpack');
  });
});

describe('sniffEncoding', () => {
  it.each<[string, Uint8Array, Encoding]>([
    ['"{" first', Buffer.from('{"cred":1}'), 'json'],
    ['spaces then "{"', Buffer.from('   {'), 'json'],
    ['all JSON white space then "{"', Buffer.from(' \t\r\n \n{'), 'json'],
    ['a fixmap', Buffer.from([0x83, 0xa4]), 'msgpack'],
    ['white space then a fixmap', Buffer.from([0x20, 0x0a, 0x83]), 'msgpack'],
    ['"[" (not an envelope object)', Buffer.from('[1]'), 'msgpack'],
    ['a UTF-8 BOM before "{"', Buffer.from([0xef, 0xbb, 0xbf, 0x7b]), 'msgpack'],
    ['a vertical tab before "{"', Buffer.from([0x0b, 0x7b]), 'msgpack'],
    ['empty', Buffer.alloc(0), 'msgpack'],
    ['only white space', Buffer.from('  \n'), 'msgpack'],
  ])('%s → %s', (_label, body, expected) => {
    expect(sniffEncoding(body)).toBe(expected);
  });

  it('tells the vector envelopes apart', () => {
    expect(sniffEncoding(Buffer.from(v.json.envelope))).toBe('json');
    expect(sniffEncoding(Buffer.from(v.msgpack.envelopeHex, 'hex'))).toBe('msgpack');
  });
});

describe('readEnvelope / readRequest (worker decoding)', () => {
  it('refuses an over-limit body with 413 before decoding it', () => {
    const err = thrownBy(() => readEnvelope(Buffer.alloc(1025, 0xc1), { encoding: 'msgpack' }, 1024));
    expect(err).toBeInstanceOf(TooLargeError);
    expect(err).toMatchObject({ status: 413, code: 'too_large' });
  });

  it('accepts a body exactly at the limit', () => {
    const body = Buffer.from(v.json.envelope);
    expect(readEnvelope(body, { encoding: 'json' }, body.length)).toMatchObject({ kind: 'signed', envelope: { cred: CRED } });
  });

  it('refuses an op that does not match the subject with 400', () => {
    const env = parseEnvelope(Buffer.from(v.json.envelope), 'json');
    expect(readRequest('read', env.payload, 'json')).toEqual(v.request);
    expect(thrownBy(() => readRequest('list', env.payload, 'json'))).toMatchObject({ status: 400 });
    expect(thrownBy(() => readRequest('delete', env.payload, 'json'))).toMatchObject({ status: 400 });
  });

  it('refuses a payload that does not decode with 400', () => {
    const env = { cred: CRED, payload: Buffer.from('{not json'), sig: SIG64 };
    expect(thrownBy(() => readRequest('read', env.payload, 'json'))).toMatchObject({ status: 400 });
  });
});

describe('request schemas', () => {
  const head = { aud: 'secret-svc', ts: 1764000000000, nonce: 'AAAAAAAAAAAAAAAAAAAAAA' };
  const ok = (op: Op, fields: Record<string, unknown> = {}) => requestSchemas[op].safeParse({ op, ...head, ...fields }).success;
  const keyOk = (key: unknown) => ok('read', { key });

  describe('head', () => {
    it.each(['whoami', 'read', 'list', 'create', 'update', 'delete'] as const)('%s refuses an unknown field', (op) => {
      const fields: Record<string, Record<string, unknown>> = {
        read: { key: 'a/b' }, create: { key: 'a/b', value: 'v' }, update: { key: 'a/b', value: 'v' }, delete: { key: 'a/b' },
      };
      const base = fields[op] ?? {};
      expect(ok(op, base)).toBe(true);
      const result = requestSchemas[op].safeParse({ op, ...head, ...base, extra: true });
      expect(result.success).toBe(false);
      if (!result.success) expect(describeIssue(result.error)).toBe('unknown field "extra"');
    });

    it.each([
      ['op missing', { op: undefined }],
      ['op of another operation', { op: 'list' }],
      ['aud missing', { aud: undefined }],
      ['aud a number', { aud: 1 }],
      ['ts missing', { ts: undefined }],
      ['ts a string', { ts: '1764000000000' }],
      ['ts fractional', { ts: 1764000000000.5 }],
      ['ts unsafe integer', { ts: 2 ** 60 }],
      ['nonce missing', { nonce: undefined }],
    ])('refuses %s', (_label, change) => {
      expect(requestSchemas.whoami.safeParse({ op: 'whoami', ...head, ...change }).success).toBe(false);
    });

    it('refuses a non-object request', () => {
      for (const value of [null, 'whoami', 5, [], [head]]) expect(requestSchemas.whoami.safeParse(value).success).toBe(false);
    });

    it.each<[string, unknown, boolean]>([
      ['16 chars', 'A'.repeat(16), true],
      ['64 chars', 'A'.repeat(64), true],
      ['all allowed characters', 'azAZ09_-azAZ09_-', true],
      ['15 chars', 'A'.repeat(15), false],
      ['65 chars', 'A'.repeat(65), false],
      ['empty', '', false],
      ['with "="', `${'A'.repeat(16)}=`, false],
      ['with "+"', `${'A'.repeat(16)}+`, false],
      ['with "/"', `${'A'.repeat(16)}/`, false],
      ['with "."', `${'A'.repeat(16)}.`, false],
      ['with a space', `${'A'.repeat(16)} `, false],
      ['with a newline', `${'A'.repeat(16)}\n`, false],
      ['non-ASCII', `${'A'.repeat(16)}é`, false],
      ['a number', 1234567890123456, false],
    ])('nonce %s → %s', (_label, nonce, expected) => {
      expect(ok('whoami', { nonce })).toBe(expected);
    });
  });

  describe('keys', () => {
    it.each<[string, unknown, boolean]>([
      ['simple', 'EMAIL_API_KEY', true],
      ['two segments', 'deploy-svc/EXAMPLE-KEY', true],
      ['one char', 'a', true],
      ['all allowed characters', 'aZ09_.-/x', true],
      ['dots inside a segment', 'a/.env/b..c/...', true],
      ['256 chars', 'a'.repeat(256), true],
      ['256 chars with segments', `${'a'.repeat(127)}/${'b'.repeat(128)}`, true],
      ['257 chars', 'a'.repeat(257), false],
      ['257 chars with segments', `${'a'.repeat(128)}/${'b'.repeat(128)}`, false],
      ['empty', '', false],
      ['leading slash', '/a', false],
      ['trailing slash', 'a/', false],
      ['empty segment', 'a//b', false],
      ['only a slash', '/', false],
      ['segment "."', 'a/./b', false],
      ['segment ".."', 'a/../b', false],
      ['key "."', '.', false],
      ['key ".."', '..', false],
      ['trailing ".."', 'a/..', false],
      ['space', 'a b', false],
      ['backslash', 'a\\b', false],
      ['colon', 'a:b', false],
      ['asterisk', 'a/*', false],
      ['newline', 'a\n', false],
      ['NUL', 'a\u0000b', false],
      ['non-ASCII', 'clé', false],
      ['a number', 5, false],
      ['null', null, false],
    ])('key %s → %s', (_label, key, expected) => {
      expect(keyOk(key)).toBe(expected);
      expect(ok('delete', { key })).toBe(expected);
      expect(ok('create', { key, value: 'v' })).toBe(expected);
    });
  });

  describe('read', () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `k/${i}`);
    it.each<[string, Record<string, unknown>, boolean]>([
      ['key', { key: 'a/b' }, true],
      ['keys', { keys: ['a/b', 'c'] }, true],
      ['neither key nor keys', {}, false],
      ['both key and keys', { key: 'a/b', keys: ['c'] }, false],
      ['keys empty', { keys: [] }, false],
      ['1 key in keys', { keys: ['a'] }, true],
      ['100 keys', { keys: keys(100) }, true],
      ['101 keys', { keys: keys(101) }, false],
      ['duplicate keys', { keys: ['a', 'b', 'a'] }, false],
      ['an invalid key in keys', { keys: ['a', 'b//c'] }, false],
      ['keys not an array', { keys: 'a' }, false],
      ['key and a stray value', { key: 'a', value: 'x' }, false],
    ])('%s → %s', (_label, fields, expected) => {
      expect(ok('read', fields)).toBe(expected);
    });
  });

  describe('list', () => {
    it.each<[string, Record<string, unknown>, boolean]>([
      ['no fields', {}, true],
      ['prefix', { prefix: 'deploy-svc/' }, true],
      ['empty prefix', { prefix: '' }, true],
      ['limit 1', { limit: 1 }, true],
      ['limit 1000', { limit: 1000 }, true],
      ['limit 0', { limit: 0 }, false],
      ['limit 1001', { limit: 1001 }, false],
      ['limit negative', { limit: -5 }, false],
      ['limit fractional', { limit: 1.5 }, false],
      ['limit a string', { limit: '10' }, false],
      ['cursor', { cursor: 'abc' }, true],
      ['cursor a number', { cursor: 5 }, false],
      ['prefix a number', { prefix: 5 }, false],
      ['a stray key', { key: 'a' }, false],
    ])('%s → %s', (_label, fields, expected) => {
      expect(ok('list', fields)).toBe(expected);
    });
  });

  describe('create', () => {
    const slugs = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
    it.each<[string, Record<string, unknown>, boolean]>([
      ['key and value', { key: 'a/b', value: 'v' }, true],
      ['empty value', { key: 'a/b', value: '' }, true],
      ['value missing', { key: 'a/b' }, false],
      ['key missing', { value: 'v' }, false],
      ['value a number', { key: 'a/b', value: 5 }, false],
      ['value bin-like', { key: 'a/b', value: { 0: 1 } }, false],
      ['all lists', { key: 'a/b', value: 'v', readers: ['a'], writers: ['b'], deleters: [] }, true],
      ['100 readers', { key: 'a/b', value: 'v', readers: slugs(100) }, true],
      ['101 readers', { key: 'a/b', value: 'v', readers: slugs(101) }, false],
      ['101 writers', { key: 'a/b', value: 'v', writers: slugs(101) }, false],
      ['101 deleters', { key: 'a/b', value: 'v', deleters: slugs(101) }, false],
      ['invalid slug in readers', { key: 'a/b', value: 'v', readers: ['Bad'] }, false],
      ['invalid slug in writers', { key: 'a/b', value: 'v', writers: ['a_b'] }, false],
      ['invalid slug in deleters', { key: 'a/b', value: 'v', deleters: ['-a'] }, false],
      ['readers not an array', { key: 'a/b', value: 'v', readers: 'a' }, false],
      ['ifVersion is not a create field', { key: 'a/b', value: 'v', ifVersion: 1 }, false],
    ])('%s → %s', (_label, fields, expected) => {
      expect(ok('create', fields)).toBe(expected);
    });
  });

  describe('update', () => {
    it.each<[string, Record<string, unknown>, boolean]>([
      ['only key (no change)', { key: 'a/b' }, false],
      ['only ifVersion (no change)', { key: 'a/b', ifVersion: 1 }, false],
      ['value', { key: 'a/b', value: 'v' }, true],
      ['empty value', { key: 'a/b', value: '' }, true],
      ['readers', { key: 'a/b', readers: ['a'] }, true],
      ['writers []', { key: 'a/b', writers: [] }, true],
      ['deleters', { key: 'a/b', deleters: ['d'] }, true],
      ['ifVersion 1', { key: 'a/b', value: 'v', ifVersion: 1 }, true],
      ['ifVersion large', { key: 'a/b', value: 'v', ifVersion: 123456 }, true],
      ['ifVersion 0', { key: 'a/b', value: 'v', ifVersion: 0 }, false],
      ['ifVersion negative', { key: 'a/b', value: 'v', ifVersion: -1 }, false],
      ['ifVersion fractional', { key: 'a/b', value: 'v', ifVersion: 1.5 }, false],
      ['ifVersion a string', { key: 'a/b', value: 'v', ifVersion: '1' }, false],
      ['key missing', { value: 'v' }, false],
      ['invalid slug', { key: 'a/b', readers: ['UPPER'] }, false],
      ['rollbackOf with value', { key: 'a/b', value: 'v', ifVersion: 3, rollbackOf: 1 }, true],
      ['rollbackOf without value', { key: 'a/b', readers: ['a'], rollbackOf: 1 }, false],
      ['rollbackOf 0', { key: 'a/b', value: 'v', rollbackOf: 0 }, false],
      ['rollbackOf a string', { key: 'a/b', value: 'v', rollbackOf: '1' }, false],
    ])('%s → %s', (_label, fields, expected) => {
      expect(ok('update', fields)).toBe(expected);
    });
  });

  describe('delete and whoami', () => {
    it.each<[string, Op, Record<string, unknown>, boolean]>([
      ['delete with key', 'delete', { key: 'a/b' }, true],
      ['delete with ifVersion', 'delete', { key: 'a/b', ifVersion: 2 }, true],
      ['delete with ifVersion 0', 'delete', { key: 'a/b', ifVersion: 0 }, false],
      ['delete without key', 'delete', {}, false],
      ['delete with value', 'delete', { key: 'a/b', value: 'v' }, false],
      ['whoami with no fields', 'whoami', {}, true],
      ['whoami with a key', 'whoami', { key: 'a/b' }, false],
    ])('%s → %s', (_label, op, fields, expected) => {
      expect(ok(op, fields)).toBe(expected);
    });
  });

  describe('describeIssue', () => {
    const VALUE = 'hunter2-VALUE-q7z';
    it.each<[string, Op, Record<string, unknown>, string]>([
      ['wrong op literal', 'read', { op: VALUE, key: 'a/b' }, 'op'],
      ['invalid key', 'create', { key: `${VALUE}/../x`, value: VALUE }, 'key'],
      ['invalid key with a long value', 'create', { key: `bad key ${VALUE.repeat(30)}`, value: 'v' }, 'key'],
      ['value of the wrong type', 'create', { key: 'a/b', value: { secret: VALUE } }, 'value'],
      ['invalid slug', 'create', { key: 'a/b', value: VALUE, readers: [VALUE] }, 'readers'],
      ['invalid nonce', 'whoami', { nonce: `${VALUE}!!` }, 'nonce'],
      ['aud too long', 'whoami', { aud: VALUE.repeat(30) }, 'aud'],
      ['limit a string', 'list', { limit: VALUE }, 'limit'],
      ['prefix too long', 'list', { prefix: VALUE.repeat(30) }, 'prefix'],
      ['duplicate keys', 'read', { keys: [`k/${VALUE}`, `k/${VALUE}`] }, 'keys'],
      ['ifVersion a string', 'update', { key: 'a/b', value: VALUE, ifVersion: VALUE }, 'ifVersion'],
      ['ts a string', 'whoami', { ts: VALUE }, 'ts'],
      ['update with nothing to change', 'update', { key: `k/${VALUE}` }, 'value'],
    ])('%s: names the field, never the value', (_label, op, fields, field) => {
      const result = requestSchemas[op].safeParse({ op, ...head, ...fields });
      expect(result.success).toBe(false);
      if (result.success) return;
      const message = describeIssue(result.error);
      expect(message).not.toContain(VALUE);
      expect(message).not.toContain('hunter2');
      expect(message).toContain(field);
    });

    it('refuses a non-object with a generic message', () => {
      const result = requestSchemas.read.safeParse(VALUE);
      expect(result.success).toBe(false);
      if (!result.success) expect(describeIssue(result.error)).not.toContain(VALUE);
    });
  });
});

describe('errors (§5)', () => {
  const table = [
    [400, 'bad_request', BadRequestError],
    [401, 'unauthenticated', UnauthenticatedError],
    [403, 'forbidden', ForbiddenError],
    [404, 'not_found', NotFoundError],
    [409, 'conflict', ConflictError],
    [413, 'too_large', TooLargeError],
    [500, 'internal', InternalError],
    [503, 'unavailable', UnavailableError],
  ] as const;

  it('ERROR_CODES is exactly the §5 table', () => {
    expect(ERROR_CODES).toEqual(Object.fromEntries(table.map(([s, c]) => [s, c])));
  });

  it.each(table)('%i %s: errorFromStatus builds the typed error', (status, code, Ctor) => {
    const err = errorFromStatus(status, 'some message');
    expect(err).toBeInstanceOf(Ctor);
    expect(err).toBeInstanceOf(SecretSvcError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ status, code, message: 'some message', name: Ctor.name });
  });

  it.each(table)('%i %s: toBody → errorFromBody round trips (through JSON and MessagePack)', (status, code, Ctor) => {
    const body = new Ctor('why it failed').toBody();
    expect(body).toEqual({ error: { status, code, message: 'why it failed' } });
    for (const wire of [JSON.parse(JSON.stringify(body)), decode(encode(body))]) {
      const err = errorFromBody(wire);
      expect(err).toBeInstanceOf(Ctor);
      expect(err).toMatchObject({ status, code, message: 'why it failed' });
    }
  });

  it('maps an unknown status to 500 internal', () => {
    for (const status of [418, 200, 0, 599]) {
      const err = errorFromStatus(status, 'odd');
      expect(err).toBeInstanceOf(InternalError);
      expect(err).toMatchObject({ status: 500, code: 'internal' });
    }
  });

  it.each<[string, unknown]>([
    ['a success body', { key: 'a/b', deleted: true }],
    ['a secret', { key: 'a/b', value: 'x', version: 1 }],
    ['null', null],
    ['a string', 'error'],
    ['an array', [{ error: {} }]],
  ])('errorFromBody of %s is undefined', (_label, body) => {
    expect(errorFromBody(body)).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['error a string', { error: 'boom' }],
    ['error null', { error: null }],
    ['status missing', { error: { message: 'x' } }],
    ['status a string', { error: { status: '404', message: 'x' } }],
  ])('errorFromBody of a malformed error (%s) is a 500', (_label, body) => {
    expect(errorFromBody(body)).toMatchObject({ status: 500, code: 'internal' });
  });

  it('UndecodableBodyError is a 400 bad_request', () => {
    const err = new UndecodableBodyError('x');
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'bad_request' });
  });
});
