/**
 * @secret-svc/protocol, the public entry: what a caller of secret-svc, or another
 * implementation of its protocol, needs (docs/protocol.md) — names, errors, the body
 * encodings, keys and credentials, signed and session envelopes as a caller builds and opens
 * them, and the request and reply types. The building blocks the worker also uses (strict
 * decoders, envelope parsers, MACs, the secretbox primitive) are in
 * `@secret-svc/protocol/internal`. An explicit list: what is not here is not public.
 */

// Constants and names
export {
  OPS, WRITE_OPS, isOp, subjectFor, isValidKey,
  SIGNATURE_CONTEXT, SERVICE_NAME, DEFAULT_NATS_URL, DEFAULT_SUBJECT_PREFIX, DEFAULT_QUEUE, DEFAULT_AUDIENCE,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS, DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_ENVELOPE_BYTES,
  SLUG_RE, KEY_SEGMENT_RE, KEY_MAX_LENGTH, NONCE_RE, MAX_LIST_ENTRIES, MAX_READ_KEYS, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT,
  MAX_WATCH_KEYS, MAX_WATCH_WAIT_MS, DEFAULT_WATCH_WAIT_MS, MAX_WATCH_CHANGES,
  ERROR_CODE_HEADER, ERROR_MESSAGE_HEADER,
  type Op,
} from './constants.js';

// Errors
export {
  ERROR_CODES, SecretSvcError, BadRequestError, UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError,
  TooLargeError, InternalError, UnavailableError, isErrorStatus, errorFromStatus, errorFromBody,
  type ErrorStatus, type ErrorCode, type ErrorBody,
} from './errors.js';

// Encodings
export { toBase64url, fromBase64url } from './base64url.js';
export { sniffEncoding, decodeUtf8, encodeBody, decodeBody, type Encoding } from './codec.js';

// Keys and credentials
export {
  generateJwk, parsePrivateJwk, privateKeyObject, publicKeyObject, isPublicKeyText, publicKeyProblem,
  type PublicJwk, type PrivateJwk,
} from './keys.js';
export {
  parseCredential, tryParseCredential, CredentialError, verifyCredentialSignature, issueCredential, JTI_MAX_LENGTH,
  type CredentialClaims, type ParsedCredential, type IssueOptions,
} from './credential.js';

// Signed envelopes and request objects
export { buildEnvelope, signedBytes, requestHead, newNonce, type Envelope, type RequestHead } from './envelope.js';
export { requestSchemas, type RequestOf, type AnyRequest, type ParamsOf } from './schemas.js';
export type {
  Secret, SecretMetadata, WhoamiReply, ReadManyReply, ListReply, DeleteReply, VersionsReply, VersionInfo,
  ChangeOp, WatchChange, WatchReply,
} from './types.js';

// Revocation (docs/protocol.md §10)
export {
  selectorOf, isOneSelector,
  type SelectorFields, type RevocationSelector, type RevocationEntry, type RevokeReply, type UnrevokeReply, type RevocationsReply,
} from './revocation.js';

// Sessions, as a caller opens and uses one (docs/protocol.md §12)
export { generateSessionKeyPair, agree, type SessionKeyPair } from './session/x25519.js';
export { deriveSessionKeys, type SessionKeys } from './session/keys.js';
export { verifyHandshake, sessionReplySchema, SESSION_INVALID_MESSAGE, type SessionReply } from './session/handshake.js';
export {
  buildSessionEnvelope, openSessionReply, openSessionReplyObject, SessionReplyError,
  type SessionEnvelope, type SessionHandle, type BuiltSessionRequest,
} from './session/envelope.js';
