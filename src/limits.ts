/**
 * Bounds the work one worker takes on (docs/protocol.md §5 503 `unavailable`): requests in
 * flight, request bytes in flight, and requests in flight per caller key, so that one
 * caller cannot take the whole worker. Beyond a bound the request is refused at once.
 */
import { UnavailableError } from '@secret-svc/protocol';

export interface InFlightBounds {
  maxInFlight: number;
  maxInFlightBytes: number;
  maxInFlightPerCaller: number;
}

/** A held place; release() exactly once when the request is answered. */
export interface Admission {
  /** Takes the caller's place too (once it is known); throws UnavailableError beyond its share. */
  admitCaller(keyId: string): void;
  release(): void;
}

export class InFlightLimits {
  private requests = 0;
  private bytes = 0;
  private readonly perCaller = new Map<string, number>();

  constructor(private readonly bounds: InFlightBounds) {}

  /** Admits a request of `bytes` or throws UnavailableError. */
  admit(bytes: number): Admission {
    const { maxInFlight, maxInFlightBytes } = this.bounds;
    if (this.requests >= maxInFlight) throw new UnavailableError(`worker busy: ${maxInFlight} requests in flight, retry`);
    // One request alone is always admitted by size: the envelope cap bounds it.
    if (this.requests > 0 && this.bytes + bytes > maxInFlightBytes) {
      throw new UnavailableError(`worker busy: over ${maxInFlightBytes} request bytes in flight, retry`);
    }
    this.requests++;
    this.bytes += bytes;
    let caller: string | undefined;
    let released = false;
    return {
      admitCaller: (keyId) => {
        const held = this.perCaller.get(keyId) ?? 0;
        if (held >= this.bounds.maxInFlightPerCaller) {
          throw new UnavailableError(`too many requests in flight for this credential key (${this.bounds.maxInFlightPerCaller}), retry`);
        }
        this.perCaller.set(keyId, held + 1);
        caller = keyId;
      },
      release: () => {
        if (released) return;
        released = true;
        this.requests--;
        this.bytes -= bytes;
        if (caller !== undefined) {
          const left = this.perCaller.get(caller)! - 1;
          if (left === 0) this.perCaller.delete(caller);
          else this.perCaller.set(caller, left);
        }
      },
    };
  }

  /** For the stats: what is held now. */
  get inFlight(): { requests: number; bytes: number; callers: number } {
    return { requests: this.requests, bytes: this.bytes, callers: this.perCaller.size };
  }
}
