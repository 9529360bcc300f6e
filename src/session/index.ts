/** Sessions on the worker (docs/protocol.md §12): tickets, the handshake, the request check, sealed replies. */
export type { Caller as SessionCaller } from '../auth/caller.js';
export { TicketBox, SESSION_INVALID_MESSAGE, TICKET_MAX_CHARS, DEFAULT_TICKET_CACHE_BYTES } from './tickets.js';
export type { TicketContents } from './ticket-codec.js';
export { openSession, DEFAULT_SESSION_TTL_SECONDS, type HandshakeDeps } from './handshake.js';
export {
  SessionGate, sessionRequestDigest,
  type SessionGateOptions, type CheckedSessionRequest, type SessionReplyKeys,
} from './request.js';
export { sealSuccessReply, sealSuccessObject, sealedReplyBytes, largestSealableReply } from './reply.js';
export { loadServiceKey, ServiceKeyError, SERVICE_KEY_ENV } from './service-key.js';
