/**
 * The operation suite every Redis / NATS setup must pass through the real client: create,
 * read, readMany, list (paged, administrator and not), update with ifVersion, delete, a
 * replayed read (401), a resent write (first reply, applied once) and concurrent creates
 * (one success, the rest 409). Used by the standalone, cluster and sentinel test files.
 */
import { randomBytes } from 'node:crypto';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { describe, expect, it } from 'vitest';
import { SecretClient, type ClientOptions } from '@secret-svc/client';
import {
  buildEnvelope, decodeBody, privateKeyObject, requestHead, type Encoding, type SecretMetadata,
} from '@secret-svc/protocol';
import type { TestCaller, TestIssuer } from '../helpers/identities.js';

export interface Deployment {
  natsServers: string[];
  issuer: TestIssuer;
}

export async function clientFor(d: Deployment, caller: TestCaller, extra: Partial<ClientOptions> = {}): Promise<SecretClient> {
  return SecretClient.connect({ servers: d.natsServers, credential: caller.credential, key: caller.key, ...extra });
}

/** Sends one signed envelope as raw bytes (to send the very same bytes twice). */
export async function sendRaw(nc: NatsConnection, body: Uint8Array, op: string): Promise<{ status: number | undefined; body: any }> {
  const msg = await nc.request(`secret.${op}`, body, { timeout: 10_000, headers: natsHeaders() });
  const encoding: Encoding = msg.data[0] === 0x7b ? 'json' : 'msgpack';
  const code = msg.headers?.get('Nats-Service-Error-Code');
  return { status: code ? Number(code) : undefined, body: decodeBody(msg.data, encoding) };
}

export function rawEnvelope(caller: TestCaller, op: string, fields: object, encoding: Encoding = 'json'): Uint8Array {
  return buildEnvelope(caller.credential, privateKeyObject(caller.key), { ...requestHead(op as never, 'secret-svc'), ...fields }, encoding);
}

async function rejection(p: Promise<unknown>): Promise<{ status?: number }> {
  try {
    await p;
  } catch (err) {
    return err as { status?: number };
  }
  throw new Error('expected the call to fail');
}

export function operationSuite(label: string, deployment: () => Deployment): void {
  describe(`operations (${label})`, () => {
    // A fresh slug space per suite run, so suites never see each other's secrets.
    const run = randomBytes(4).toString('hex');
    const slug = (name: string) => `${name}-${run}`;

    it('create, read, readMany, update with ifVersion, delete', async () => {
      const d = deployment();
      const [ownerSlug, otherSlug] = [slug('owner'), slug('other')];
      const owner = await clientFor(d, d.issuer.caller(ownerSlug));
      const other = await clientFor(d, d.issuer.caller(otherSlug), { encoding: 'json' });
      try {
        const key = `${ownerSlug}/DB_PASSWORD`;
        const created = await owner.create(key, 'v1-secret', { readers: [ownerSlug, otherSlug], writers: [ownerSlug], deleters: [ownerSlug] });
        expect(created).toMatchObject({ key, version: 1, createdBy: ownerSlug, updatedBy: ownerSlug });
        expect(created).not.toHaveProperty('value');
        expect(await owner.read(key)).toMatchObject({ key, value: 'v1-secret', version: 1 });
        expect(await other.read(key)).toMatchObject({ key, value: 'v1-secret' });

        // Visible to `other` (a writer) but not readable; invisible to `other`.
        const denied = `${ownerSlug}/WRITE_ONLY`;
        await owner.create(denied, 'w', { readers: [ownerSlug], writers: [ownerSlug, otherSlug] });
        const hidden = `${ownerSlug}/HIDDEN`;
        await owner.create(hidden, 'h');
        const many = await other.readMany([key, denied, hidden, `${ownerSlug}/NONE`]);
        expect(many.secrets.map((s) => [s.key, s.value])).toEqual([[key, 'v1-secret']]);
        expect([...many.denied].sort()).toEqual([denied]);
        expect([...many.missing].sort()).toEqual([hidden, `${ownerSlug}/NONE`].sort());
        expect((await rejection(other.read(hidden))).status).toBe(404);
        expect((await rejection(other.update(key, { value: 'nope' }))).status).toBe(403);

        const updated = await owner.update(key, { value: 'v2-secret', ifVersion: 1 });
        expect(updated).toMatchObject({ key, version: 2, updatedBy: ownerSlug });
        expect((await rejection(owner.update(key, { value: 'v3', ifVersion: 1 }))).status).toBe(409);
        expect(await other.read(key)).toMatchObject({ value: 'v2-secret', version: 2 });

        expect((await rejection(owner.delete(key, { ifVersion: 1 }))).status).toBe(409);
        expect(await owner.delete(key, { ifVersion: 2 })).toEqual({ key, deleted: true });
        expect((await rejection(owner.read(key))).status).toBe(404);
        expect((await rejection(other.read(key))).status).toBe(404);
      } finally {
        await owner.close();
        await other.close();
      }
    });

    it('list pages through the visible secrets in key order (administrator and not)', async () => {
      const d = deployment();
      const viewer = slug('viewer');
      const admin = await clientFor(d, d.issuer.caller(slug('admin'), { admin: true }));
      const user = await clientFor(d, d.issuer.caller(viewer));
      try {
        const prefix = `list-${run}/`;
        const keys = Array.from({ length: 7 }, (_, i) => `${prefix}k${i}`);
        // Even keys are visible to the viewer (through a different list each), odd ones are not.
        const lists = [{ readers: [viewer] }, {}, { writers: [viewer] }, {}, { deleters: [viewer] }, {}, { readers: [viewer] }];
        for (const [i, key] of keys.entries()) await admin.create(key, `value-${i}`, lists[i]);

        const adminPages = await pages(admin, prefix, 3);
        expect(adminPages.map((p) => p.length)).toEqual([3, 3, 1]);
        expect(adminPages.flat().map((m) => m.key)).toEqual(keys);
        expect(adminPages.flat().every((m) => !('value' in m))).toBe(true);

        const userPages = await pages(user, prefix, 2);
        expect(userPages.map((p) => p.length)).toEqual([2, 2]);
        expect(userPages.flat().map((m) => m.key)).toEqual(keys.filter((_, i) => i % 2 === 0));
        // listAll follows the cursors to the same answer; a prefix narrows it.
        const all: string[] = [];
        for await (const m of user.listAll({ prefix, limit: 1 })) all.push(m.key);
        expect(all).toEqual(keys.filter((_, i) => i % 2 === 0));
        expect((await user.list({ prefix: `${prefix}k4` })).secrets.map((m) => m.key)).toEqual([`${prefix}k4`]);
        console.log(`[${label}] list: ${keys.length} secrets, administrator pages ${adminPages.map((p) => p.length).join('+')}, viewer pages ${userPages.map((p) => p.length).join('+')}`);
      } finally {
        await admin.close();
        await user.close();
      }
    });

    it('a replayed read envelope gets 401; a resent write gets its first reply and applies once', async () => {
      const d = deployment();
      const caller = d.issuer.caller(slug('replay'));
      const client = await clientFor(d, caller);
      const nc = await connect({ servers: d.natsServers, noAsyncTraces: true });
      try {
        const key = `${caller.slug}/K`;
        const create = rawEnvelope(caller, 'create', { key, value: 'once' });
        const first = await sendRaw(nc, create, 'create');
        expect(first.status).toBeUndefined();
        expect(first.body).toMatchObject({ key, version: 1 });
        const again = await sendRaw(nc, create, 'create');
        expect(again).toEqual(first);

        const read = rawEnvelope(caller, 'read', { key }, 'msgpack');
        const r1 = await sendRaw(nc, read, 'read');
        expect(r1.status).toBeUndefined();
        expect(r1.body).toMatchObject({ key, value: 'once', version: 1 });
        const r2 = await sendRaw(nc, read, 'read');
        expect(r2.status).toBe(401);
        expect(r2.body.error).toMatchObject({ status: 401, code: 'unauthenticated' });
        expect(await client.read(key)).toMatchObject({ version: 1 });
      } finally {
        await nc.close();
        await client.close();
      }
    });

    it('concurrent creates of one key: exactly one success, the rest 409', async () => {
      const d = deployment();
      const clients = await Promise.all(Array.from({ length: 4 }, () => clientFor(d, d.issuer.caller(slug('racer'), { admin: true }))));
      try {
        const key = `race-${run}/ONE`;
        const n = 24;
        const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => clients[i % clients.length]!.create(key, `value-${i}`)));
        const ok = results.filter((r) => r.status === 'fulfilled');
        const statuses = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { status?: number }).status] : []));
        console.log(`[${label}] ${n} concurrent creates: ${ok.length} created, ${statuses.filter((s) => s === 409).length} x 409`);
        expect(ok).toHaveLength(1);
        expect(statuses).toEqual(Array(n - 1).fill(409));
        const winner = (ok[0] as PromiseFulfilledResult<SecretMetadata>).value;
        expect(winner.version).toBe(1);
        const stored = await clients[0]!.read(key);
        expect(stored.version).toBe(1);
        expect(stored.value).toMatch(/^value-\d+$/);
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    });
  });
}

async function pages(client: SecretClient, prefix: string, limit: number): Promise<SecretMetadata[][]> {
  const out: SecretMetadata[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 20; i++) {
    const page = await client.list({ prefix, limit, ...(cursor ? { cursor } : {}) });
    out.push(page.secrets);
    if (page.cursor === null) return out;
    cursor = page.cursor;
  }
  throw new Error('list did not end');
}
