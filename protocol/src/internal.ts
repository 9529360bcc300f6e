/**
 * @secret-svc/protocol/internal: the public entry plus the building blocks a worker needs to
 * take requests apart and answer them (strict decoders, envelope parsers, the session MAC,
 * ticket and seal primitives). Callers use `@secret-svc/protocol`.
 */
export * from './index.js';

export { quoteInput } from './errors.js';
export { decodeJson, parseJsonText, decodeMsgpack, AmbiguousBodyError } from './codec.js';
export { checkMsgpack } from './msgpack-guard.js';
export { writeMsgpack, UnsupportedValue } from './msgpack-writer.js';
export { checkJsonText } from './json-guard.js';
export { ed25519PublicKeyProblem, PublicKeyError, signBytes, verifyBytes } from './keys.js';
export { credentialClaimsSchema } from './credential.js';
export {
  parseEnvelope, decodeEnvelopeObject, signedEnvelopeFields, onlyFields, decodePayload, UndecodableBodyError,
} from './envelope.js';
export { requestHeadFields, keySchema, slugSchema, describeIssue } from './schemas.js';
export { sessionKeyPairFromPrivate, x25519PublicKeyProblem, readX25519PublicKey } from './session/x25519.js';
export { SESSION_CONTEXT } from './session/keys.js';
export {
  seal, open, SEAL_NONCE_BYTES, SEAL_OVERHEAD, TWEETNACL_SECRETBOX, useSecretbox, type SecretboxPrimitive,
} from './session/seal.js';
export { sessionMac, macMatches, MAC_BYTES } from './session/mac.js';
export { handshakeSignedBytes, signHandshake, TICKET_RE } from './session/handshake.js';
export {
  parseSessionEnvelope, sessionEnvelopeFields, isSessionEnvelopeObject, checkSessionMac, openSessionPayload, sealSessionReply,
} from './session/envelope.js';
export { parseRequestEnvelope, type RequestEnvelope } from './request-envelope.js';
