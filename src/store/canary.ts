/**
 * Startup check that the keyring opens the data already in Redis, so a worker with the
 * wrong keys refuses to start instead of answering 500s (or mixing keys). The canary is
 * read through the store's record path; starting reseals nothing.
 */
import type { SecretStore } from './secret-store.js';
import { IntegrityError } from './seal.js';

export class WrongKeyError extends Error {}

/** `variable`: where the keyring came from, named in the refusal. */
export async function checkCanary(store: SecretStore, variable = 'SECRET_SVC_ENCRYPTION_KEY(S)'): Promise<'created' | 'verified'> {
  try {
    if ((await store.keyring.readCanary()) === 'verified') return 'verified';
    // No canary yet: if data exists anyway (canary deleted), prove the keyring on one record.
    const first = await store.keyring.firstRecord();
    if (first?.sealed) store.open(first.sealed);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    throw new WrongKeyError(
      `the keyring (key ids ${store.keyIds.join(', ')}) cannot open the data in Redis (${err.message}): refusing to start; ` +
        `check ${variable} and SECRET_SVC_REDIS_PREFIX`,
    );
  }
  await store.keyring.createCanary();
  return 'created';
}
