/** Replies to a reused nonce (docs/protocol.md §3 Retries): the first write reply again, or 401. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BadRequestError, ConflictError, ForbiddenError, NotFoundError, SecretSvcError, TooLargeError, UnauthenticatedError,
} from '@secret-svc/protocol';
import { requestDigest } from '../../src/auth/authenticate.js';
import { errorOutcome, replayReply, successOutcome } from '../../src/store/outcome.js';
import { thrownBy } from './fixtures.js';

const digest = requestDigest(randomBytes(64));
const otherDigest = requestDigest(randomBytes(64));

/** What the write script stores under the nonce: "w1|<digest>|<version>|<outcome>". */
const stored = (d: string, version: number, outcome: string) => `w1|${d}|${version}|${outcome}`;

const metadata = {
  key: 'deploy-svc/X', readers: ['deploy-svc'], writers: ['deploy-svc'], deleters: ['deploy-svc'],
  version: 1, createdAt: '2025-11-24T16:00:00.000Z', updatedAt: '2025-11-24T16:00:00.000Z',
  createdBy: 'deploy-svc', updatedBy: 'deploy-svc',
};

describe('requestDigest', () => {
  it('is stable for one signature and differs between signatures', () => {
    const sig = randomBytes(64);
    expect(requestDigest(sig)).toBe(requestDigest(Buffer.from(sig)));
    expect(digest).not.toBe(otherDigest);
    expect(digest).not.toContain('|');
  });
});

describe('replayReply', () => {
  it('returns the stored success with the version the write script filled in', () => {
    const reply = replayReply(stored(digest, 7, successOutcome({ ...metadata, version: 1 })), digest);
    expect(reply).toEqual({ ...metadata, version: 7 });
  });

  it('returns a stored delete reply (no version field) unchanged', () => {
    const reply = replayReply(stored(digest, 0, successOutcome({ key: 'deploy-svc/X', deleted: true })), digest);
    expect(reply).toEqual({ key: 'deploy-svc/X', deleted: true });
  });

  it('keeps a stored body containing the separator character', () => {
    const body = { ...metadata, key: 'deploy-svc/A', createdBy: 'x', note: 'a|b|c' };
    expect(replayReply(stored(digest, 2, successOutcome(body)), digest)).toEqual({ ...body, version: 2 });
  });

  it('answers 401 to another request reusing the nonce (other digest)', () => {
    const err = thrownBy(() => replayReply(stored(digest, 1, successOutcome(metadata)), otherDigest));
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err).toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('answers 401 to another request even when the first one failed', () => {
    const err = thrownBy(() => replayReply(stored(digest, 3, errorOutcome(new ConflictError('exists'))), otherDigest));
    expect(err).toBeInstanceOf(UnauthenticatedError);
  });

  it('rethrows a stored 409 as ConflictError with its message', () => {
    const err = thrownBy(() => replayReply(stored(digest, 3, errorOutcome(new ConflictError('secret "deploy-svc/X" already exists'))), digest));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ status: 409, code: 'conflict', message: 'secret "deploy-svc/X" already exists' });
  });

  it.each([
    [new ForbiddenError('no'), ForbiddenError],
    [new NotFoundError('gone'), NotFoundError],
    [new TooLargeError('big'), TooLargeError],
    [new BadRequestError('bad'), BadRequestError],
  ])('rethrows a stored %s with its class', (original, Ctor) => {
    const err = thrownBy(() => replayReply(stored(digest, 0, errorOutcome(original)), digest));
    expect(err).toBeInstanceOf(Ctor);
    expect(err).toBeInstanceOf(SecretSvcError);
    expect(err).toMatchObject({ status: original.status, code: original.code, message: original.message });
  });

  it('answers 401 to a nonce used by a read (marker "r")', () => {
    const err = thrownBy(() => replayReply('r', digest));
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect(err).toMatchObject({ status: 401 });
  });

  it.each([
    ['empty', ''],
    ['wrong format tag', `w2|${digest}|1|${successOutcome(metadata)}`],
    ['missing version', `w1|${digest}||${successOutcome(metadata)}`],
  ])('answers 401 to an unrecognised stored marker (%s)', (_label, text) => {
    expect(thrownBy(() => replayReply(text, digest))).toBeInstanceOf(UnauthenticatedError);
  });
});
