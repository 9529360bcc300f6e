/**
 * Revocation entries in the store (docs/protocol.md §10), owned by SecretStore: revoke and
 * unrevoke claim the nonce and store their outcome in one script like writes do (a
 * resend gets the first reply); loadAll and revision are the RevocationWatcher's source.
 */
import {
  NotFoundError, selectorOf, UnauthenticatedError,
  type RevocationEntry, type RevocationSelector, type RevokeReply, type UnrevokeReply,
} from '@secret-svc/protocol';
import type { NonceClaim } from '../auth/caller.js';
import type { RevocationSource } from '../revocation/index.js';
import type { RedisKeys } from './keys.js';
import { errorOutcome, outcomeHead, replayReply, successBody, successOutcome } from './outcome.js';
import type { ScriptName } from './script-loader.js';
import { IntegrityError } from './seal.js';

export type RunScript = (name: ScriptName, keys: string[], args: (string | number | Buffer)[]) => Promise<unknown>;

/** An entry's identity in the store: its selector with only its own fields, as JSON in a fixed order. */
export function revocationMember(selector: RevocationSelector): string {
  return JSON.stringify(selectorOf(selector));
}

export class RevocationStore implements RevocationSource {
  constructor(
    private readonly keys: RedisKeys,
    private readonly run: RunScript,
    private readonly get: (key: string) => Promise<string | null>,
  ) {}

  /** Adds the entry (or finds the identical one: its original at and by are the reply). */
  async revoke(nonce: NonceClaim, selector: RevocationSelector, by: string, atMs: number): Promise<RevokeReply> {
    const revoked = selectorOf(selector);
    const fresh: RevokeReply = { revoked, at: new Date(atMs).toISOString(), by };
    const [status, value] = (await this.run('revoke', this.changeKeys(nonce), [
      nonce.ttlMs, outcomeHead(nonce.digest), revocationMember(revoked), successOutcome(fresh),
    ])) as [string, string];
    if (status === 'replay') return replayReply(value, nonce.digest) as RevokeReply;
    return revokeReplyOf(value);
  }

  /** Removes exactly the entry with this selector; NotFoundError when there is none. */
  async unrevoke(nonce: NonceClaim, selector: RevocationSelector): Promise<UnrevokeReply> {
    const unrevoked = selectorOf(selector);
    const reply: UnrevokeReply = { unrevoked };
    const missing = new NotFoundError('no revocation with exactly this selector');
    const [status, value] = (await this.run('unrevoke', this.changeKeys(nonce), [
      nonce.ttlMs, outcomeHead(nonce.digest), revocationMember(unrevoked), successOutcome(reply), errorOutcome(missing),
    ])) as [string, string | undefined];
    if (status === 'replay') return replayReply(String(value), nonce.digest) as UnrevokeReply;
    if (status === 'missing') throw missing;
    return reply;
  }

  /** Claims a read nonce and returns every entry in the order made (the `revocations` op). */
  async list(nonce: NonceClaim): Promise<RevocationEntry[]> {
    const reply = await this.run('revocations', [...this.readKeys(), this.keys.nonce(nonce.callerKeyId, nonce.nonce)], [nonce.ttlMs]);
    if (!Array.isArray(reply)) throw new UnauthenticatedError('nonce has already been used');
    return entriesOf(reply[1] as (string | null)[]);
  }

  async loadAll(): Promise<{ entries: RevocationEntry[]; revision: number }> {
    const [revision, outcomes] = (await this.run('revocations', this.readKeys(), [])) as [number, (string | null)[]];
    return { entries: entriesOf(outcomes), revision: Number(revision) };
  }

  async revision(): Promise<number> {
    return Number((await this.get(this.keys.revocationRevision)) ?? 0);
  }

  private changeKeys(nonce: NonceClaim): string[] {
    return [this.keys.nonce(nonce.callerKeyId, nonce.nonce), ...this.readKeys()];
  }

  private readKeys(): string[] {
    return [this.keys.revocationOrder, this.keys.revocationEntries, this.keys.revocationRevision];
  }
}

function entriesOf(outcomes: (string | null)[]): RevocationEntry[] {
  return outcomes.map((outcome) => {
    if (typeof outcome !== 'string') throw new IntegrityError('a revocation entry is missing');
    const { revoked, at, by } = revokeReplyOf(outcome);
    return { ...revoked, at, by };
  });
}

function revokeReplyOf(outcome: string): RevokeReply {
  const body = successBody(outcome) as Partial<RevokeReply> | undefined;
  if (!body || typeof body.revoked !== 'object' || body.revoked === null || typeof body.at !== 'string' || typeof body.by !== 'string') {
    throw new IntegrityError('a stored revocation entry is malformed');
  }
  return { revoked: selectorOf(body.revoked), at: body.at, by: body.by };
}
