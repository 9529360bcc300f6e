/**
 * The client package's public API: the client, identity loading, options from the environment,
 * sessions' errors and settings, the protocol's error classes (to catch by type) and reply types. Protocol internals (envelopes,
 * schemas, credential issuing) live in @secret-svc/protocol.
 */
export { SecretClient, type CallOptions, type ClientOptions, type CreateOptions, type ListOptions, type UpdateChanges } from './client.js';
export { type NatsRequester, type ReplyMsg } from './connection.js';
export { type WatchBatch, type WatchChange, type WatchOptions, type WatchSelector } from './watch.js';
export { SecretCache, type CacheOptions, type CacheStats } from './cache.js';
export { optionsFromEnv, type Env, type EnvOptions } from './env.js';
export { IdentityError, type IdentityProblem } from './errors.js';
export { loadIdentity, type Identity, type IdentityOptions } from './identity.js';
export { NATS_AUTH_ENV, NatsAuthError, natsAuthOptions } from './nats-auth.js';
export { SERVICE_PUBLIC_KEY_ENV, SessionHandshakeError } from './session.js';
export {
  SecretSvcError, BadRequestError, UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError,
  TooLargeError, InternalError, UnavailableError, SessionReplyError,
  type ErrorStatus, type ErrorCode,
  type Secret, type SecretMetadata, type ReadManyReply, type ListReply, type WhoamiReply, type DeleteReply, type VersionsReply, type VersionInfo,
  type Encoding, type Op, type WatchReply,
} from '@secret-svc/protocol';
