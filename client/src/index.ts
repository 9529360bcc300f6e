export { SecretClient, type ClientOptions, type CreateOptions, type ListOptions, type UpdateChanges } from './client.js';
export { loadIdentity, type Identity, type IdentityOptions } from './identity.js';
export * from './protocol/index.js';
