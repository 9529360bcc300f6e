/**
 * @secret-svc/protocol: everything the worker, the client and the CLI share about the wire
 * (docs/protocol.md). An explicit list: what is not here is internal.
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
  TooLargeError, InternalError, UnavailableError, quoteInput, isErrorStatus, errorFromStatus, errorFromBody,
  type ErrorStatus, type ErrorCode, type ErrorBody,
} from './errors.js';

// Encodings
export { toBase64url, fromBase64url } from './base64url.js';
export {
  sniffEncoding, decodeJson, parseJsonText, decodeMsgpack, decodeUtf8, encodeBody, decodeBody, AmbiguousBodyError,
  type Encoding,
} from './codec.js';
export { checkMsgpack } from './msgpack-guard.js';
export { checkJsonText } from './json-guard.js';

// Keys and credentials
export {
  generateJwk, parsePrivateJwk, privateKeyObject, publicKeyObject, isPublicKeyText, publicKeyProblem,
  ed25519PublicKeyProblem, PublicKeyError, signBytes, verifyBytes,
  type PublicJwk, type PrivateJwk,
} from './keys.js';
export {
  parseCredential, tryParseCredential, CredentialError, verifyCredentialSignature, issueCredential, credentialClaimsSchema, JTI_MAX_LENGTH,
  type CredentialClaims, type ParsedCredential, type IssueOptions,
} from './credential.js';

// Signed envelopes and request objects
export {
  buildEnvelope, parseEnvelope, decodeEnvelopeObject, signedEnvelopeFields, onlyFields, decodePayload, signedBytes,
  requestHead, newNonce, UndecodableBodyError,
  type Envelope, type RequestHead,
} from './envelope.js';
export {
  requestSchemas, requestHeadFields, keySchema, slugSchema, describeIssue,
  type RequestOf, type AnyRequest, type ParamsOf,
} from './schemas.js';
export type {
  Secret, SecretMetadata, WhoamiReply, ReadManyReply, ListReply, DeleteReply, VersionsReply, VersionInfo,
  ChangeOp, WatchChange, WatchReply,
} from './types.js';

// Revocation (docs/protocol.md §10)
export {
  selectorOf, isOneSelector,
  type SelectorFields, type RevocationSelector, type RevocationEntry, type RevokeReply, type UnrevokeReply, type RevocationsReply,
} from './revocation.js';

// Sessions (docs/protocol.md §12)
export {
  generateSessionKeyPair, sessionKeyPairFromPrivate, agree, x25519PublicKeyProblem, readX25519PublicKey,
  type SessionKeyPair,
} from './session/x25519.js';
export { deriveSessionKeys, SESSION_CONTEXT, type SessionKeys } from './session/keys.js';
export {
  seal, open, SEAL_NONCE_BYTES, SEAL_OVERHEAD, TWEETNACL_SECRETBOX, useSecretbox, type SecretboxPrimitive,
} from './session/seal.js';
export { sessionMac, macMatches, MAC_BYTES } from './session/mac.js';
export {
  handshakeSignedBytes, signHandshake, verifyHandshake, sessionReplySchema, TICKET_RE, SESSION_INVALID_MESSAGE,
  type SessionReply,
} from './session/handshake.js';
export {
  parseSessionEnvelope, sessionEnvelopeFields, isSessionEnvelopeObject, checkSessionMac, openSessionPayload,
  buildSessionEnvelope, sealSessionReply, openSessionReply, openSessionReplyObject, SessionReplyError,
  type SessionEnvelope, type SessionHandle, type BuiltSessionRequest,
} from './session/envelope.js';
export { parseRequestEnvelope, type RequestEnvelope } from './request-envelope.js';
