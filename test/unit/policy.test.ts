/** The access rules of docs/protocol.md §4, as a table over the pure policy functions. */
import { describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError, type ChangeOp } from '@secret-svc/protocol';
import {
  audience, changeSeenBy, checkAccess, checkCreate, initialAcl, isVisible, updatedAcl, type Acl, type ChangeReaders, type Principal, type Right,
} from '../../src/policy.js';

const admin: Principal = { slug: 'root', admin: true };
const deploy: Principal = { slug: 'deploy-svc', admin: false };
const other: Principal = { slug: 'other', admin: false };

const acl = (readers: string[], writers: string[], deleters: string[]): Acl => ({ readers, writers, deleters });
const EMPTY = acl([], [], []);

/** Lists compare as sets (order is not significant) but must hold no duplicates. */
function expectSameSet(actual: string[], expected: string[]): void {
  expect(new Set(actual).size, `duplicates in ${JSON.stringify(actual)}`).toBe(actual.length);
  expect([...actual].sort()).toEqual([...expected].sort());
}
function expectAcl(actual: Acl, expected: Acl): void {
  expectSameSet(actual.readers, expected.readers);
  expectSameSet(actual.writers, expected.writers);
  expectSameSet(actual.deleters, expected.deleters);
}

type Outcome = 'ok' | 403 | 404;
function outcomeOf(err: ReturnType<typeof checkAccess>): Outcome {
  if (err === null) return 'ok';
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  throw new Error(`unexpected error ${err.name} ${err.status}`);
}

describe('create: prefix rule', () => {
  it.each<[string, Principal, string, Outcome]>([
    ['own prefix, two segments', deploy, 'deploy-svc/X', 'ok'],
    ['own prefix, deeper key', deploy, 'deploy-svc/a/b.c', 'ok'],
    ['own prefix, dotted segment', deploy, 'deploy-svc/.env', 'ok'],
    ['bare slug (one segment)', deploy, 'deploy-svc', 403],
    ['slug as a prefix of a longer first segment', deploy, 'deploy-svc-old/X', 403],
    ['slug without separator', deploy, 'deploy-svcX', 403],
    ['first segment differs in case', deploy, 'Deploy-svc/X', 403],
    ['slug only in a later segment', deploy, 'other/deploy-svc/X', 403],
    ['another caller\'s prefix', deploy, 'other/X', 403],
    ['a top-level key', deploy, 'EMAIL_API_KEY', 403],
    ['other caller, own prefix', other, 'other/X', 'ok'],
    ['other caller, deploy-svc prefix', other, 'deploy-svc/X', 403],
    ['admin, top-level key', admin, 'EMAIL_API_KEY', 'ok'],
    ['admin, someone else\'s prefix', admin, 'deploy-svc/X', 'ok'],
    ['admin, a prefix that is not its slug', admin, 'deploy-svc-old/X', 'ok'],
  ])('%s: %s creates %s → %s', (_label, who, key, expected) => {
    const err = checkCreate(who, key);
    expect(outcomeOf(err)).toBe(expected);
    if (err) expect(err).toMatchObject({ status: 403, code: 'forbidden' });
  });
});

describe('read / update / delete rights and visibility', () => {
  const rights: Right[] = ['read', 'update', 'delete'];
  const onlyReader = acl(['deploy-svc'], [], []);
  const onlyWriter = acl([], ['deploy-svc'], []);
  const onlyDeleter = acl([], [], ['deploy-svc']);
  const all = acl(['deploy-svc'], ['deploy-svc'], ['deploy-svc']);
  const someoneElse = acl(['other'], ['other'], ['other']);

  // [label, who, acl (undefined = no such secret), right, expected]
  const table: [string, Principal, Acl | undefined, Right, Outcome][] = [
    // in the matching list
    ['reader reads', deploy, onlyReader, 'read', 'ok'],
    ['writer updates', deploy, onlyWriter, 'update', 'ok'],
    ['deleter deletes', deploy, onlyDeleter, 'delete', 'ok'],
    ['in all lists: read', deploy, all, 'read', 'ok'],
    ['in all lists: update', deploy, all, 'update', 'ok'],
    ['in all lists: delete', deploy, all, 'delete', 'ok'],
    // visible through another list, lacking the right → 403
    ['reader may not update', deploy, onlyReader, 'update', 403],
    ['reader may not delete', deploy, onlyReader, 'delete', 403],
    ['writer may not read', deploy, onlyWriter, 'read', 403],
    ['writer may not delete', deploy, onlyWriter, 'delete', 403],
    ['deleter may not read', deploy, onlyDeleter, 'read', 403],
    ['deleter may not update', deploy, onlyDeleter, 'update', 403],
    // not visible → 404, never 403
    ['invisible: read', deploy, someoneElse, 'read', 404],
    ['invisible: update', deploy, someoneElse, 'update', 404],
    ['invisible: delete', deploy, someoneElse, 'delete', 404],
    ['empty lists: read', deploy, EMPTY, 'read', 404],
    ['slug prefix is not membership', { slug: 'deploy', admin: false }, all, 'read', 404],
    ['own key prefix is not membership', deploy, someoneElse, 'read', 404],
    // missing secret → 404
    ['missing: read', deploy, undefined, 'read', 404],
    ['missing: update', deploy, undefined, 'update', 404],
    ['missing: delete', deploy, undefined, 'delete', 404],
    // admin may do everything, to every existing secret
    ...rights.flatMap((r): [string, Principal, Acl | undefined, Right, Outcome][] => [
      [`admin ${r} with empty lists`, admin, EMPTY, r, 'ok'],
      [`admin ${r} someone else's secret`, admin, someoneElse, r, 'ok'],
      [`admin ${r} a missing secret`, admin, undefined, r, 404],
    ]),
  ];

  it.each(table)('%s → %s', (_label, who, list, right, expected) => {
    const err = checkAccess(who, 'deploy-svc/X', list, right);
    expect(outcomeOf(err)).toBe(expected);
    if (expected === 403) expect(err).toMatchObject({ status: 403, code: 'forbidden' });
    if (expected === 404) expect(err).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('a 404 for an invisible secret says the same as for a missing one', () => {
    const invisible = checkAccess(deploy, 'other/X', someoneElse, 'read');
    const missing = checkAccess(deploy, 'other/X', undefined, 'read');
    expect(invisible?.message).toBe(missing?.message);
  });

  it.each<[string, Principal, Acl, boolean]>([
    ['reader', deploy, onlyReader, true],
    ['writer', deploy, onlyWriter, true],
    ['deleter', deploy, onlyDeleter, true],
    ['in no list', deploy, someoneElse, false],
    ['empty lists', deploy, EMPTY, false],
    ['admin, empty lists', admin, EMPTY, true],
  ])('isVisible: %s → %s', (_label, who, list, expected) => {
    expect(isVisible(who, list)).toBe(expected);
  });
});

describe('initialAcl', () => {
  it.each<[string, Principal, Partial<Acl>, Acl]>([
    ['non-admin, nothing given: [caller]', deploy, {}, acl(['deploy-svc'], ['deploy-svc'], ['deploy-svc'])],
    ['admin, nothing given: []', admin, {}, EMPTY],
    ['non-admin, readers given', deploy, { readers: ['other'] }, acl(['other'], ['deploy-svc'], ['deploy-svc'])],
    ['non-admin, [] kept as given', deploy, { readers: [], writers: [], deleters: [] }, EMPTY],
    ['non-admin, one [] kept', deploy, { deleters: [] }, acl(['deploy-svc'], ['deploy-svc'], [])],
    ['admin, lists kept', admin, { readers: ['a', 'b'], writers: ['a'] }, acl(['a', 'b'], ['a'], [])],
    ['duplicates dropped', deploy, { readers: ['b', 'a', 'b', 'a'], writers: ['x', 'x'] }, acl(['a', 'b'], ['x'], ['deploy-svc'])],
    ['caller not forced into given lists', deploy, { readers: ['other'], writers: ['other'], deleters: ['other'] }, acl(['other'], ['other'], ['other'])],
  ])('%s', (_label, who, given, expected) => {
    expectAcl(initialAcl(who, given), expected);
  });

  it('does not alias the caller-given arrays', () => {
    const readers = ['a', 'a'];
    initialAcl(deploy, { readers });
    expect(readers).toEqual(['a', 'a']);
  });
});

describe('updatedAcl', () => {
  const current = acl(['r1', 'r2'], ['w1'], ['d1']);
  it.each<[string, Partial<Acl>, Acl]>([
    ['nothing given: unchanged', {}, current],
    ['readers replaced only', { readers: ['x'] }, acl(['x'], ['w1'], ['d1'])],
    ['writers replaced only', { writers: ['x', 'y'] }, acl(['r1', 'r2'], ['x', 'y'], ['d1'])],
    ['deleters replaced only', { deleters: [] }, acl(['r1', 'r2'], ['w1'], [])],
    ['[] replaces (does not keep)', { readers: [], writers: [] }, acl([], [], ['d1'])],
    ['all replaced', { readers: ['a'], writers: ['b'], deleters: ['c'] }, acl(['a'], ['b'], ['c'])],
    ['duplicates dropped', { readers: ['z', 'z', 'y'] }, acl(['y', 'z'], ['w1'], ['d1'])],
  ])('%s', (_label, given, expected) => {
    expectAcl(updatedAcl(current, given), expected);
  });
});

describe('audience', () => {
  it.each<[string, Acl, string[]]>([
    ['empty', EMPTY, []],
    ['union of all lists, deduplicated', acl(['a', 'b'], ['b', 'c'], ['c', 'd', 'a']), ['a', 'b', 'c', 'd']],
    ['only deleters', acl([], [], ['d']), ['d']],
    ['only writers', acl([], ['w'], []), ['w']],
  ])('%s', (_label, list, expected) => {
    expectSameSet(audience(list), expected);
  });

  it('is exactly the non-admins the secret is visible to', () => {
    const list = acl(['a'], ['b'], ['c']);
    for (const slug of ['a', 'b', 'c', 'd', 'e']) {
      expect(audience(list).includes(slug)).toBe(isVisible({ slug, admin: false }, list));
    }
  });
});

describe('changeSeenBy: what a change is to a watcher (docs/protocol.md §14)', () => {
  const svc = { slug: 'svc', admin: false };
  const admin = { slug: 'root', admin: true };
  const R = (...slugs: string[]) => slugs;
  const cases: [string, { slug: string; admin: boolean }, ChangeReaders, ChangeOp | null][] = [
    ['create, reader after', svc, { op: 'create', readersBefore: undefined, readersAfter: R('svc') }, 'create'],
    ['create, not a reader', svc, { op: 'create', readersBefore: undefined, readersAfter: R('other') }, null],
    ['update, reader before and after', svc, { op: 'update', readersBefore: R('svc'), readersAfter: R('svc', 'x') }, 'update'],
    ['update, added to the readers', svc, { op: 'update', readersBefore: R('x'), readersAfter: R('svc') }, 'update'],
    ['update, removed from the readers', svc, { op: 'update', readersBefore: R('svc'), readersAfter: R('x') }, 'delete'],
    ['update, reader neither time', svc, { op: 'update', readersBefore: R('x'), readersAfter: R() }, null],
    ['delete, reader before', svc, { op: 'delete', readersBefore: R('svc'), readersAfter: undefined }, 'delete'],
    ['delete, not a reader', svc, { op: 'delete', readersBefore: R('x'), readersAfter: undefined }, null],
    ['admin: create with no readers', admin, { op: 'create', readersBefore: undefined, readersAfter: R() }, 'create'],
    ['admin: update with no readers', admin, { op: 'update', readersBefore: R(), readersAfter: R() }, 'update'],
    ['admin: delete', admin, { op: 'delete', readersBefore: R(), readersAfter: undefined }, 'delete'],
    ['writer-only slug is no reader', { slug: 'w', admin: false }, { op: 'update', readersBefore: R('svc'), readersAfter: R('svc') }, null],
  ];
  for (const [name, who, change, expected] of cases) {
    it(name, () => expect(changeSeenBy(who, change)).toBe(expected));
  }
});
