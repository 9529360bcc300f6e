/**
 * One request, start to finish: decode → credential and signature → request object and
 * freshness → operation (policy, then store) → encoded reply. Never throws: every failure
 * becomes an error reply in the request's encoding.
 */
import {
  encodeBody, InternalError, SecretSvcError, sniffEncoding, TooLargeError, UndecodableBodyError, WRITE_OPS, type Encoding, type Op,
} from '@secret-svc/protocol';
import { CredentialVerifier } from './auth/credentials.js';
import { checkHead, nonceTtlMs } from './auth/freshness.js';
import { checkSignature } from './auth/signature.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { createOperations, type RunOp } from './ops/index.js';
import { KeyedQueue } from './ops/keyed-queue.js';
import { readEnvelope, readRequest } from './request/decode.js';
import { requestDigest } from './store/outcome.js';
import type { SecretStore } from './store/secret-store.js';

export interface HandledReply {
  body: Uint8Array;
  error: SecretSvcError | undefined;
  /** For the request log line: who asked for what (never a value). */
  slug: string | undefined;
  key: string | undefined;
}

export interface HandlerDeps {
  config: Config;
  store: SecretStore;
  log: Logger;
  /** The largest reply the bus takes (the server's max_payload). */
  maxReplyBytes: () => number;
}

export class RequestHandler {
  private readonly credentials: CredentialVerifier;
  private readonly runOp: RunOp;

  constructor(private readonly deps: HandlerDeps) {
    this.credentials = new CredentialVerifier(deps.config.issuers, deps.config.maxClockSkewMs);
    this.runOp = createOperations({
      store: deps.store, maxValueBytes: deps.config.maxValueBytes, maxReplyBytes: deps.maxReplyBytes, writes: new KeyedQueue(),
    });
  }

  /** `requestId` only labels log lines (a worker-local sequence number). */
  async handle(op: Op, body: Uint8Array, requestId = 0): Promise<HandledReply> {
    const { config } = this.deps;
    let encoding: Encoding = sniffEncoding(body);
    let slug: string | undefined;
    let key: string | undefined;
    try {
      let envelope;
      try {
        envelope = readEnvelope(body, encoding, config.maxEnvelopeBytes);
      } catch (err) {
        if (err instanceof UndecodableBodyError) encoding = 'json';
        throw err;
      }
      const now = Date.now();
      const cred = this.credentials.verify(envelope.cred, now);
      slug = cred.slug;
      checkSignature(cred, envelope);
      const request = readRequest(op, envelope, encoding);
      key = 'key' in request ? request.key : undefined;
      checkHead(request, config.audience, config.maxClockSkewMs, now);
      const result = await this.runOp(op, {
        caller: cred,
        nonce: {
          callerKeyId: cred.keyId,
          nonce: request.nonce,
          ttlMs: nonceTtlMs(request.ts, config.maxClockSkewMs, now),
          // Only writes keep an outcome to compare a resend against.
          digest: WRITE_OPS.has(op) ? requestDigest(envelope.sig) : '',
        },
        nowMs: now,
      }, request);
      const replyBody = encodeBody(result, encoding);
      // NATS refuses a message over its max_payload; say so instead of leaving the caller to time out.
      if (replyBody.byteLength > this.deps.maxReplyBytes()) {
        throw new TooLargeError(`reply would be ${replyBody.byteLength} bytes, over the bus limit of ${this.deps.maxReplyBytes()}: ask for fewer keys`);
      }
      return { body: replyBody, error: undefined, slug, key };
    } catch (err) {
      const error = err instanceof SecretSvcError ? err : this.unexpected(requestId, op, err);
      if (error.status >= 500 && err instanceof SecretSvcError) {
        this.deps.log.error({ req: requestId, op, slug, key, status: error.status, err: error.message }, 'request failed');
      }
      return { body: encodeBody(error.toBody(), encoding), error, slug, key };
    }
  }

  private unexpected(requestId: number, op: Op, err: unknown): SecretSvcError {
    // Only the error's class and message are logged; the worker never builds a message from a value.
    this.deps.log.error({ req: requestId, op, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, 'unexpected error');
    return new InternalError('internal error');
  }
}
