/**
 * The client package's public API: the client, identity loading, the protocol's error
 * classes (to catch by type) and reply types. Protocol internals (envelopes, schemas,
 * credential issuing) live in @secret-svc/protocol.
 */
export { SecretClient, type ClientOptions, type CreateOptions, type ListOptions, type UpdateChanges } from './client.js';
export { loadIdentity, type Identity, type IdentityOptions } from './identity.js';
export {
  SecretSvcError, BadRequestError, UnauthenticatedError, ForbiddenError, NotFoundError, ConflictError,
  TooLargeError, InternalError, UnavailableError,
  type ErrorStatus, type ErrorCode,
  type Secret, type SecretMetadata, type ReadManyReply, type ListReply, type WhoamiReply, type DeleteReply, type VersionsReply, type VersionInfo,
  type Encoding, type Op,
} from '@secret-svc/protocol';
