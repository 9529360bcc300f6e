/**
 * The plaintext of a ticket (docs/protocol.md §12): what a session request needs without a
 * look-up, in a fixed binary layout so the sealed text stays well under 1024 characters
 * (at most 636 bytes here: a 128-character jti of 3-byte UTF-8 characters included).
 *
 *   u8  flags            1 admin, 2 jti, 4 iat, 8 exp
 *   f64 ticket expiry    epoch ms
 *   f64 iat, f64 exp     epoch ms, each only with its flag
 *   32  caller key       raw Ed25519 public key (the keyId text decoded)
 *   32  issuer key       raw Ed25519 public key
 *   96  session keys     macKey || replyKey || requestKey
 *   u8  slug length, then the slug (ASCII)
 *   u16 jti length, then the jti (UTF-8), only with its flag
 *
 * Times are f64 so every JavaScript number a credential may hold comes back unchanged.
 */
import { fromBase64url, toBase64url, type SessionKeys } from '@secret-svc/protocol';
import type { Caller } from '../auth/caller.js';

export interface TicketContents {
  caller: Caller;
  keys: SessionKeys;
  /** When the ticket stops being accepted (epoch ms, no skew allowance). */
  expiresAtMs: number;
}

const ADMIN = 1;
const HAS_JTI = 2;
const HAS_IAT = 4;
const HAS_EXP = 8;
const KEY_BYTES = 32;

/** Thrown for bytes that are not a ticket's plaintext (only a bug gets here: the bytes opened). */
export class TicketFormatError extends Error {}

export function encodeTicket(t: TicketContents): Buffer {
  const { caller } = t;
  const keyId = rawKey(caller.keyId, 'caller key');
  const issuer = rawKey(caller.issuer, 'issuer key');
  const slug = Buffer.from(caller.slug, 'ascii');
  const jti = caller.jti === null ? undefined : Buffer.from(caller.jti, 'utf8');
  if (slug.length > 255 || (jti && jti.length > 0xffff)) throw new TicketFormatError('slug or jti too long for a ticket');
  const flags = (caller.admin ? ADMIN : 0) | (jti ? HAS_JTI : 0)
    | (caller.issuedAtMs !== null ? HAS_IAT : 0) | (caller.expiresAtMs !== null ? HAS_EXP : 0);
  const times = [t.expiresAtMs, caller.issuedAtMs, caller.expiresAtMs].filter((v): v is number => v !== null);
  const head = Buffer.alloc(1 + 8 * times.length);
  head[0] = flags;
  times.forEach((v, i) => head.writeDoubleBE(v, 1 + 8 * i));
  const slugLength = Buffer.from([slug.length]);
  const jtiPart = jti ? [u16(jti.length), jti] : [];
  return Buffer.concat([
    head, keyId, issuer, t.keys.macKey, t.keys.replyKey, t.keys.requestKey, slugLength, slug, ...jtiPart,
  ]);
}

export function decodeTicket(bytes: Buffer): TicketContents {
  const r = new Reader(bytes);
  const flags = r.u8();
  if (flags & ~(ADMIN | HAS_JTI | HAS_IAT | HAS_EXP)) throw new TicketFormatError('unknown ticket flags');
  const expiresAtMs = r.f64();
  const issuedAtMs = flags & HAS_IAT ? r.f64() : null;
  const credentialExpiresAtMs = flags & HAS_EXP ? r.f64() : null;
  const keyId = toBase64url(r.take(KEY_BYTES));
  const issuer = toBase64url(r.take(KEY_BYTES));
  // Copies: the cache keeps these, and a subarray would keep the whole opened buffer alive.
  const keys = { macKey: Buffer.from(r.take(32)), replyKey: Buffer.from(r.take(32)), requestKey: Buffer.from(r.take(32)) };
  const slug = r.take(r.u8()).toString('ascii');
  const jti = flags & HAS_JTI ? r.utf8(r.u16()) : null;
  r.end();
  return {
    // Frozen: the cache hands the same object to every request of the session.
    caller: Object.freeze({ slug, admin: (flags & ADMIN) !== 0, issuer, keyId, jti, issuedAtMs, expiresAtMs: credentialExpiresAtMs }),
    keys,
    expiresAtMs,
  };
}

function rawKey(text: string, what: string): Buffer {
  const raw = fromBase64url(text);
  if (raw?.length !== KEY_BYTES) throw new TicketFormatError(`${what} is not base64url of 32 bytes`);
  return raw;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  private at = 0;
  constructor(private readonly bytes: Buffer) {}
  take(n: number): Buffer {
    if (this.at + n > this.bytes.length) throw new TicketFormatError('ticket is cut short');
    const part = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return part;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    return this.take(2).readUInt16BE(0);
  }
  f64(): number {
    return this.take(8).readDoubleBE(0);
  }
  utf8(n: number): string {
    try {
      return strictUtf8.decode(this.take(n));
    } catch {
      throw new TicketFormatError('ticket jti is not UTF-8');
    }
  }
  end(): void {
    if (this.at !== this.bytes.length) throw new TicketFormatError('ticket has trailing bytes');
  }
}
