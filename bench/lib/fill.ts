/**
 * Fills Redis directly with a pipeline, far faster than N signed creates, writing exactly
 * what the worker's create writes: the same key layout (RedisKeys), the same fields in the
 * same order (newRecordFields, as write.lua's create), the same ACL and stamp encodings (record.ts)
 * and values sealed by the worker's own Sealer, bound the same way (bindingOf). The worker's
 * startup canary check then opens a filled record, which proves the data is its own format.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { audience, type Acl } from '../../src/policy.js';
import type { RedisKeys } from '../../src/store/keys.js';
import { aclField, newRecordFields, stampField } from '../../src/store/record.js';
import type { Sealer } from '../../src/store/seal.js';

export interface FillPlan {
  /** Total secrets; split evenly over `owners` slugs, each seeing only its own. */
  secrets: number;
  owners: number;
  valueBytes: number;
}

export interface Filled {
  /** owner slug i -> its keys, ascending. */
  keysOf(owner: number): string[];
  slug(owner: number): string;
  seconds: number;
}

const BATCH = 500;

export function ownerSlug(i: number): string {
  return `team-${String(i).padStart(3, '0')}`;
}

export function secretKey(owner: number, n: number): string {
  return `${ownerSlug(owner)}/API_KEY_${String(n).padStart(5, '0')}`;
}

export async function fill(redis: Redis, keys: RedisKeys, sealer: Sealer, plan: FillPlan): Promise<Filled> {
  const started = Date.now();
  const perOwner = Math.ceil(plan.secrets / plan.owners);
  const at = Date.now();
  let pipe = redis.pipeline();
  let queued = 0;
  const allMembers: string[] = [];
  for (let owner = 0; owner < plan.owners; owner++) {
    const slug = ownerSlug(owner);
    const acl: Acl = { readers: [slug], writers: [slug], deleters: [slug] };
    const field = aclField(acl);
    const stamp = stampField(at, slug);
    const visible: string[] = [];
    for (let n = 0; n < perOwner && owner * perOwner + n < plan.secrets; n++) {
      const key = secretKey(owner, n);
      const value = randomBytes(plan.valueBytes).toString('base64').slice(0, plan.valueBytes);
      pipe.hset(keys.record(key), ...newRecordFields(sealer, key, field, stamp, value, randomBytes(8).toString('hex')));
      visible.push(key);
      allMembers.push(key);
      if (++queued % BATCH === 0) {
        await pipe.exec();
        pipe = redis.pipeline();
      }
    }
    for (const s of audience(acl)) zaddAll(pipe, keys.visible(s), visible);
  }
  zaddAll(pipe, keys.all, allMembers);
  await pipe.exec();
  return {
    keysOf: (owner) => Array.from({ length: Math.min(perOwner, plan.secrets - owner * perOwner) }, (_, n) => secretKey(owner, n)),
    slug: ownerSlug,
    seconds: (Date.now() - started) / 1000,
  };
}

/** ZADD score 0 for many members, in chunks (the scores are all 0, as write.lua sets them). */
function zaddAll(pipe: ReturnType<Redis['pipeline']>, key: string, members: string[]): void {
  for (let i = 0; i < members.length; i += 1000) {
    const args: (string | number)[] = [];
    for (const m of members.slice(i, i + 1000)) args.push(0, m);
    pipe.zadd(key, ...args);
  }
}
