/**
 * Tickets (docs/protocol.md §12): sealed by the worker that opened the session, opened by any
 * worker of the deployment. Each is
 *
 *   base64url( 0x01 || key id (4 bytes) || seal(ticketKey, plaintext) )
 *
 * where ticketKey = HKDF-SHA256(ring key, salt = the deployment, info "secret-svc/v1 ticket")
 * — never the data key itself, derived by the store's Sealer — and the key id (§13, in clear)
 * names the ring key. The deployment (SECRET_SVC_AUDIENCE and SECRET_SVC_SUBJECT_PREFIX, each
 * length-prefixed) in the salt binds a ticket to it (docs/protocol.md §15): a deployment that
 * shares the keyring but not both settings cannot open it (401, like any ticket that does
 * not open). The ring's first key seals; every key opens, so a ring change that drops a key
 * retires its tickets (401, the caller opens a new session). Opened tickets are cached by
 * their text, bounded by bytes.
 */
import { LRUCache } from 'lru-cache';
import {
  DEFAULT_AUDIENCE, DEFAULT_SUBJECT_PREFIX, fromBase64url, open, seal, SESSION_INVALID_MESSAGE, TICKET_RE, toBase64url, UnauthenticatedError,
} from '@secret-svc/protocol/internal';
import type { DerivedKey, Sealer } from '../store/seal.js';
import { decodeTicket, encodeTicket, TicketFormatError, type TicketContents } from './ticket-codec.js';

export { SESSION_INVALID_MESSAGE };

export const TICKET_MAX_CHARS = 1024;
export const DEFAULT_TICKET_CACHE_BYTES = 8 * 1024 * 1024;

const VERSION = 0x01;
const KEY_ID_BYTES = 4;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
const INFO = 'secret-svc/v1 ticket';
/** Per cached entry beyond the text: keys, caller fields, the cache's own bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 600;

/** What a ticket is bound to (docs/protocol.md §15). */
export interface TicketDeployment {
  audience: string;
  subjectPrefix: string;
}

const DEFAULT_DEPLOYMENT: TicketDeployment = { audience: DEFAULT_AUDIENCE, subjectPrefix: DEFAULT_SUBJECT_PREFIX };

/** The HKDF salt naming a deployment: each setting as its 2-byte length and UTF-8 bytes (no two deployments share one). */
export function deploymentSalt(d: TicketDeployment): Buffer {
  return Buffer.concat([d.audience, d.subjectPrefix].flatMap((text) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    return [length, bytes];
  }));
}

export class TicketBox {
  private readonly keys: DerivedKey[];
  private readonly opened: LRUCache<string, TicketContents>;

  /** `sealer`: the store's keyring; the box gets only keys derived from it (docs/protocol.md §12). */
  constructor(sealer: Sealer, deployment: TicketDeployment = DEFAULT_DEPLOYMENT, cacheBytes = DEFAULT_TICKET_CACHE_BYTES) {
    this.keys = sealer.derivedKeys(INFO, deploymentSalt(deployment));
    this.opened = new LRUCache({
      maxSize: cacheBytes,
      sizeCalculation: (_value, text) => 2 * text.length + ENTRY_OVERHEAD_BYTES,
    });
  }

  /** Bytes the cache of opened tickets holds now (its estimate; never over the bound). */
  get cachedBytes(): number {
    return this.opened.calculatedSize;
  }

  /** The ticket text for these contents, sealed under the ring's first key. */
  seal(contents: TicketContents): string {
    const { id, key } = this.keys[0]!;
    const text = toBase64url(Buffer.concat([Buffer.from([VERSION]), id, seal(key, encodeTicket(contents))]));
    if (text.length > TICKET_MAX_CHARS) throw new Error(`ticket would be ${text.length} characters`);
    return text;
  }

  /**
   * The contents of a ticket that opens under a ring key and has not expired at `nowMs`
   * (no skew allowance). Anything else, whatever its length or characters, is 401 with
   * SESSION_INVALID_MESSAGE.
   */
  open(text: string, nowMs: number): TicketContents {
    let contents = this.opened.get(text);
    if (!contents) {
      contents = this.openUncached(text);
      this.opened.set(text, contents);
    }
    if (nowMs >= contents.expiresAtMs) throw new UnauthenticatedError(SESSION_INVALID_MESSAGE);
    return contents;
  }

  private openUncached(text: string): TicketContents {
    const invalid = () => new UnauthenticatedError(SESSION_INVALID_MESSAGE);
    if (!TICKET_RE.test(text)) throw invalid();
    const bytes = fromBase64url(text);
    if (!bytes || bytes.length <= HEADER_BYTES || bytes[0] !== VERSION) throw invalid();
    const id = bytes.subarray(1, HEADER_BYTES);
    const sealed = bytes.subarray(HEADER_BYTES);
    for (const k of this.keys) {
      if (!k.id.equals(id)) continue; // two ring keys may share an id: try each that matches
      const plain = open(k.key, sealed);
      if (!plain) continue;
      try {
        return decodeTicket(plain);
      } catch (err) {
        if (err instanceof TicketFormatError) throw invalid();
        throw err;
      }
    }
    throw invalid();
  }
}
