/**
 * Startup check that the configured key opens the data already in Redis, so a worker with
 * the wrong key refuses to start instead of answering 500s (or mixing keys).
 */
import type { Cluster, Redis } from 'ioredis';
import type { RedisKeys } from './keys.js';
import { bindingOf, parseHashFields, RECORD_FIELDS } from './record.js';
import { IntegrityError, Sealer } from './seal.js';

const CANARY_BINDING = 'canary';
const CANARY_TEXT = 'secret-svc canary v1';

export class WrongKeyError extends Error {}

export async function checkCanary(redis: Redis | Cluster, keys: RedisKeys, sealer: Sealer): Promise<'created' | 'verified'> {
  const existing = await redis.getBuffer(keys.canary);
  if (existing) {
    openOrRefuse(sealer, CANARY_BINDING, existing, 'canary');
    return 'verified';
  }
  // No canary yet: if data exists anyway (canary deleted, older data), prove the key on one record.
  const [first] = await redis.zrange(keys.all, 0, 0);
  if (first !== undefined) {
    const record = parseHashFields(await redis.hmgetBuffer(keys.record(first), ...RECORD_FIELDS));
    if (record?.sealed) openOrRefuse(sealer, bindingOf(first, record.aclField), record.sealed, 'an existing record');
  }
  await redis.set(keys.canary, sealer.seal(CANARY_BINDING, CANARY_TEXT), 'NX');
  return 'created';
}

function openOrRefuse(sealer: Sealer, binding: string, sealed: Buffer, what: string): void {
  try {
    sealer.open(binding, sealed);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    throw new WrongKeyError(
      `the configured encryption key (id ${sealer.keyIdText}) cannot open ${what} in Redis ` +
        `(sealed by key id ${Sealer.keyIdOf(sealed)}): refusing to start; check SECRET_SVC_ENCRYPTION_KEY and SECRET_SVC_REDIS_PREFIX`,
    );
  }
}
