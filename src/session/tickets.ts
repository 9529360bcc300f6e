/**
 * Tickets (docs/protocol.md §12): sealed by the worker that opened the session, opened by any
 * worker of the deployment. Each is
 *
 *   base64url( 0x01 || key id (4 bytes) || seal(ticketKey, plaintext) )
 *
 * where ticketKey = HKDF-SHA256(ring key, info "secret-svc/v1 ticket") — never the data key
 * itself — and the key id (§13, in clear) names the ring key. The ring's first key seals;
 * every key opens, so a ring change that drops a key retires its tickets (401, the caller
 * opens a new session). Opened tickets are cached by their text, bounded by bytes.
 */
import { hkdfSync } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { fromBase64url, open, seal, SESSION_INVALID_MESSAGE, TICKET_RE, toBase64url, UnauthenticatedError } from '@secret-svc/protocol';
import { keyIdOf } from '../keyring-source.js';
import { decodeTicket, encodeTicket, TicketFormatError, type TicketContents } from './ticket-codec.js';

export { SESSION_INVALID_MESSAGE };

export const TICKET_MAX_CHARS = 1024;
export const DEFAULT_TICKET_CACHE_BYTES = 8 * 1024 * 1024;

const VERSION = 0x01;
const KEY_ID_BYTES = 4;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
const INFO = Buffer.from('secret-svc/v1 ticket', 'ascii');
/** Per cached entry beyond the text: keys, caller fields, the cache's own bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 600;

interface TicketKey {
  id: Buffer;
  key: Buffer;
}

export class TicketBox {
  private readonly keys: TicketKey[];
  private readonly opened: LRUCache<string, TicketContents>;

  /** `ring`: the keyring (config.encryptionKeys), first key first. */
  constructor(ring: readonly Uint8Array[], cacheBytes = DEFAULT_TICKET_CACHE_BYTES) {
    if (ring.length === 0) throw new Error('a ticket box needs at least one ring key');
    this.keys = ring.map((k) => ({
      id: Buffer.from(keyIdOf(k), 'hex'),
      key: Buffer.from(hkdfSync('sha256', k, Buffer.alloc(0), INFO, 32)),
    }));
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
