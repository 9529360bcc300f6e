/** Every operation of docs/protocol.md §4 with its exact success reply, in both encodings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SecretClient } from '@secret-svc/client';
import type { SecretMetadata } from '@secret-svc/protocol';
import type { TestCaller } from '../helpers/identities.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { call, claimsOf, ENCODINGS, expectOk, handBuiltJsonEnvelope, request, send } from '../helpers/wire.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const METADATA_FIELDS = ['createdAt', 'createdBy', 'deleters', 'key', 'readers', 'updatedAt', 'updatedBy', 'version', 'writers'];
const sorted = (l: string[]) => [...l].sort();

let stack: Stack;
beforeAll(async () => { stack = await startStack(); });
afterAll(async () => { await stack?.stop(); });

describe.each(ENCODINGS)('operations (%s)', (encoding) => {
  const slug = `app-${encoding}`;
  const peer = `peer-${encoding}`;
  let me: TestCaller; let other: TestCaller; let admin: TestCaller;
  let c: SecretClient; let o: SecretClient; let a: SecretClient;

  beforeAll(async () => {
    me = stack.issuer.caller(slug);
    other = stack.issuer.caller(peer);
    admin = stack.issuer.caller(`root-${encoding}`, { admin: true });
    [c, o, a] = await Promise.all([stack.client(me, encoding), stack.client(other, encoding), stack.client(admin, encoding)]);
  });

  describe('whoami', () => {
    it('names the caller, its issuer, and expiresAt null without exp', async () => {
      expect(await c.whoami()).toEqual({ slug, admin: false, issuer: stack.issuer.publicKey, expiresAt: null });
      expect(await a.whoami()).toEqual({ slug: `root-${encoding}`, admin: true, issuer: stack.issuer.publicKey, expiresAt: null });
    });

    it('gives expiresAt as the ISO form of the credential exp', async () => {
      const temp = stack.issuer.caller(slug, { ttlSeconds: 3600 });
      const exp = claimsOf(temp.credential).exp as number;
      const client = await stack.client(temp, encoding);
      const reply = await client.whoami();
      expect(reply).toEqual({ slug, admin: false, issuer: stack.issuer.publicKey, expiresAt: new Date(exp * 1000).toISOString() });
      expect(reply.expiresAt).toMatch(ISO);
    });

    it('raw reply carries no error header and is in the request encoding', async () => {
      const reply = await call(stack.nc, me, request('whoami'), encoding);
      expect(expectOk(reply, encoding)).toEqual({ slug, admin: false, issuer: stack.issuer.publicKey, expiresAt: null });
    });
  });

  describe('create', () => {
    it('returns exact metadata with defaults [caller] for a non-admin', async () => {
      const before = Date.now();
      const meta = await c.create(`${slug}/defaults`, 'v-defaults');
      expect(Object.keys(meta).sort()).toEqual(METADATA_FIELDS);
      expect(meta).toEqual({
        key: `${slug}/defaults`, readers: [slug], writers: [slug], deleters: [slug], version: 1,
        createdAt: meta.createdAt, updatedAt: meta.createdAt, createdBy: slug, updatedBy: slug,
      });
      expect(meta.createdAt).toMatch(ISO);
      expect(Date.parse(meta.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    });

    it('defaults omitted lists to [] for an administrator', async () => {
      const meta = await a.create(`ops-${encoding}/admin-defaults`, 'v');
      expect(meta).toMatchObject({ readers: [], writers: [], deleters: [], version: 1, createdBy: `root-${encoding}` });
    });

    it('keeps given lists as given (even []), defaults only the omitted ones, drops duplicates', async () => {
      const meta = await c.create(`${slug}/given`, 'v', { readers: [peer, slug, peer, slug], writers: [] });
      expect(sorted(meta.readers)).toEqual(sorted([peer, slug]));
      expect(meta.writers).toEqual([]);
      expect(meta.deleters).toEqual([slug]);
      const adminMeta = await a.create(`ops-${encoding}/given`, 'v', { readers: ['x1', 'x1'], deleters: ['y1'] });
      expect(adminMeta).toMatchObject({ readers: ['x1'], writers: [], deleters: ['y1'] });
      // The stored lists are the same as those replied.
      expect(await c.read(`${slug}/given`)).toMatchObject({ readers: meta.readers, writers: [], deleters: [slug] });
    });
  });

  describe('read', () => {
    it('one key: the secret with its value and metadata', async () => {
      const meta = await c.create(`${slug}/one`, 'välue-ünicode ✓');
      const secret = await c.read(`${slug}/one`);
      expect(secret).toEqual({ ...meta, value: 'välue-ünicode ✓' });
    });

    it('boundaries: a 256-character key, 100 entries in a list', async () => {
      const key = `${slug}/`.padEnd(256, 'k');
      const readers = [slug, ...Array.from({ length: 99 }, (_, i) => `r${i}`)];
      const meta = await c.create(key, 'long', { readers });
      expect(meta.readers).toHaveLength(100);
      expect((await c.read(key)).value).toBe('long');
    });

    it('an empty value round-trips', async () => {
      await c.create(`${slug}/empty`, '');
      expect((await c.read(`${slug}/empty`)).value).toBe('');
    });

    it('many keys: secrets, missing (absent or invisible), denied (visible, not a reader)', async () => {
      const m1 = await c.create(`${slug}/m1`, 'one');
      const m2 = await c.create(`${slug}/m2`, 'two');
      // Visible to `me` as a writer only: denied.
      await o.create(`${peer}/writer-only`, 'w', { readers: [peer], writers: [peer, slug] });
      // Not visible to `me`: missing, like an absent key.
      await o.create(`${peer}/hidden`, 'h');
      const reply = await c.readMany([`${slug}/m2`, `${peer}/hidden`, `${slug}/absent`, `${peer}/writer-only`, `${slug}/m1`]);
      expect(Object.keys(reply).sort()).toEqual(['denied', 'missing', 'secrets']);
      expect([...reply.secrets].sort((x, y) => x.key.localeCompare(y.key))).toEqual([
        { ...m1, value: 'one' }, { ...m2, value: 'two' },
      ]);
      expect(sorted(reply.missing)).toEqual(sorted([`${peer}/hidden`, `${slug}/absent`]));
      expect(reply.denied).toEqual([`${peer}/writer-only`]);
    });

    it('many keys: up to 100 at once, in any order', async () => {
      const keys = Array.from({ length: 100 }, (_, i) => `${slug}/many/${String(i).padStart(3, '0')}`);
      for (const k of keys.slice(0, 50)) await c.create(k, `val-${k}`);
      const reply = await c.readMany([...keys].reverse());
      expect(reply.secrets.map((s) => [s.key, s.value]).sort()).toEqual(keys.slice(0, 50).map((k) => [k, `val-${k}`]));
      expect(sorted(reply.missing)).toEqual(keys.slice(50));
      expect(reply.denied).toEqual([]);
    });

    it('an administrator reads every secret', async () => {
      await o.create(`${peer}/for-admin`, 'admin-sees-this', { readers: [peer] });
      expect((await a.read(`${peer}/for-admin`)).value).toBe('admin-sees-this');
    });
  });

  describe('list', () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    let all: SecretMetadata[];

    beforeAll(async () => {
      all = [];
      for (const n of [...names].reverse()) all.push(await c.create(`${slug}/ls/${n}`, `list-${n}`));
      await o.create(`${peer}/ls/invisible`, 'x');
      await o.create(`${peer}/ls/shared`, 'y', { deleters: [peer, slug] });
      await c.create(`${slug}/lt`, 'outside the prefix');
      all.sort((x, y) => (x.key < y.key ? -1 : 1));
    });

    it('one page: the visible secrets under the prefix in ascending order, cursor null', async () => {
      const page = await c.list({ prefix: `${slug}/ls/` });
      expect(page).toEqual({ secrets: all, cursor: null });
      for (const s of page.secrets) expect(s).not.toHaveProperty('value');
    });

    it('pages with limit and cursor until the cursor is null', async () => {
      const keys: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await c.list({ prefix: `${slug}/ls/`, limit: 3, ...(cursor ? { cursor } : {}) });
        sizes.push(page.secrets.length);
        keys.push(...page.secrets.map((s) => s.key));
        if (page.cursor === null) break;
        expect(typeof page.cursor).toBe('string');
        cursor = page.cursor;
      }
      expect(sizes).toEqual([3, 3, 1]);
      expect(keys).toEqual(all.map((s) => s.key));
      // A page that ends exactly at the last secret is the last page.
      expect(await c.list({ prefix: `${slug}/ls/`, limit: 7 })).toEqual({ secrets: all, cursor: null });
    });

    it('a non-admin sees only secrets it is in a list of', async () => {
      const page = await c.list({ prefix: `${peer}/ls/` });
      expect(page.secrets.map((s) => s.key)).toEqual([`${peer}/ls/shared`]);
      expect(page.cursor).toBeNull();
    });

    it('an administrator sees everything', async () => {
      const page = await a.list({ prefix: `${peer}/ls/` });
      expect(page.secrets.map((s) => s.key)).toEqual([`${peer}/ls/invisible`, `${peer}/ls/shared`]);
      const mine = await a.list({ prefix: `${slug}/ls/`, limit: 1000 });
      expect(mine).toEqual({ secrets: all, cursor: null });
    });

    it('without a prefix lists every visible secret, sorted, across pages', async () => {
      const keys: string[] = [];
      for await (const s of c.listAll({ limit: 2 })) keys.push(s.key);
      expect(keys).toEqual([...keys].sort());
      expect(keys).toEqual(expect.arrayContaining([...all.map((s) => s.key), `${peer}/ls/shared`, `${slug}/lt`]));
      expect(keys).not.toContain(`${peer}/ls/invisible`);
      expect(new Set(keys).size).toBe(keys.length);
    });

    it('ascending means byte order of the keys (case, digits, "-", ".", "_", "/")', async () => {
      const suffixes = ['Z', 'a', 'A', '0', '9', '_x', '-x', '.x', 'x/y', 'x-y', 'x.y', 'x_y', 'xy', 'B.c/d'];
      for (const sfx of suffixes) await c.create(`${slug}/ord/${sfx}`, 'o');
      const keys: string[] = [];
      for await (const s of c.listAll({ prefix: `${slug}/ord/`, limit: 4 })) keys.push(s.key);
      const expected = suffixes.map((sfx) => `${slug}/ord/${sfx}`).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(keys).toEqual(expected);
    });

    it('visibility follows list changes: added, removed, and deleted secrets', async () => {
      const key = `${slug}/vis/shared`;
      await c.create(key, 'v');
      const peerKeys = async () => (await o.list({ prefix: `${slug}/vis/` })).secrets.map((s) => s.key);
      expect(await peerKeys()).toEqual([]);
      await c.update(key, { deleters: [slug, peer] });
      expect(await peerKeys()).toEqual([key]);
      await c.update(key, { readers: [peer], deleters: [slug] });
      expect(await peerKeys()).toEqual([key]);
      await c.update(key, { readers: [slug] });
      expect(await peerKeys()).toEqual([]);
      // The caller removes itself from every list: it no longer sees the secret.
      await c.update(key, { readers: [peer], writers: [peer], deleters: [peer] });
      expect((await c.list({ prefix: `${slug}/vis/` })).secrets).toEqual([]);
      await expect(c.read(key)).rejects.toMatchObject({ status: 404 });
      expect(await peerKeys()).toEqual([key]);
      await o.delete(key);
      expect(await peerKeys()).toEqual([]);
      expect((await a.list({ prefix: `${slug}/vis/` })).secrets).toEqual([]);
    });

    it('limit defaults to 100', async () => {
      const keys = Array.from({ length: 101 }, (_, i) => `${slug}/hundred/${String(i).padStart(3, '0')}`);
      await Promise.all(keys.map((k) => c.create(k, 'h')));
      const first = await c.list({ prefix: `${slug}/hundred/` });
      expect(first.secrets.map((s) => s.key)).toEqual(keys.slice(0, 100));
      expect(typeof first.cursor).toBe('string');
      const second = await c.list({ prefix: `${slug}/hundred/`, cursor: first.cursor! });
      expect(second).toMatchObject({ secrets: [{ key: keys[100] }], cursor: null });
    });

    it('a prefix matching nothing gives an empty last page', async () => {
      expect(await c.list({ prefix: `${slug}/nothing-here/` })).toEqual({ secrets: [], cursor: null });
    });
  });

  describe('update', () => {
    it('changes the value, version +1 each time, keeps createdAt/createdBy', async () => {
      const key = `${slug}/upd`;
      const created = await c.create(key, 'v1');
      const u2 = await c.update(key, { value: 'v2' });
      expect(u2).toEqual({ ...created, version: 2, updatedAt: u2.updatedAt, updatedBy: slug });
      expect(Date.parse(u2.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.updatedAt));
      expect(await c.read(key)).toEqual({ ...u2, value: 'v2' });
      const u3 = await c.update(key, { value: 'v3', ifVersion: 2 });
      expect(u3.version).toBe(3);
      expect((await c.read(key)).value).toBe('v3');
    });

    it('changes lists only (value kept), and a list given replaces that list only', async () => {
      const key = `${slug}/upd-lists`;
      await c.create(key, 'keep me');
      const u = await c.update(key, { readers: [slug, peer, peer] });
      expect(u).toMatchObject({ version: 2, writers: [slug], deleters: [slug] });
      expect(sorted(u.readers)).toEqual(sorted([slug, peer]));
      expect(await o.read(key)).toMatchObject({ value: 'keep me', version: 2 });
      // Another caller as writer updates; updatedBy names it.
      const u3 = await c.update(key, { writers: [slug, peer] });
      const u4 = await o.update(key, { value: 'by peer', deleters: [] });
      expect(u4).toMatchObject({ version: 4, updatedBy: peer, createdBy: slug, deleters: [] });
      expect(sorted(u4.writers)).toEqual(sorted(u3.writers));
      expect((await c.read(key)).value).toBe('by peer');
    });

    it('ifVersion equal to the current version succeeds', async () => {
      const key = `${slug}/upd-if`;
      await c.create(key, 'a');
      expect((await c.update(key, { value: 'b', ifVersion: 1 })).version).toBe(2);
      expect((await c.update(key, { readers: [slug], ifVersion: 2 })).version).toBe(3);
    });

    it('an administrator updates a secret it is in no list of', async () => {
      const key = `${slug}/upd-admin`;
      await c.create(key, 'a');
      expect(await a.update(key, { value: 'admin' })).toMatchObject({ version: 2, updatedBy: `root-${encoding}` });
      expect((await c.read(key)).value).toBe('admin');
    });
  });

  describe('delete', () => {
    it('without ifVersion: {key, deleted: true}, then the key is gone', async () => {
      const key = `${slug}/del`;
      await c.create(key, 'x');
      expect(await c.delete(key)).toEqual({ key, deleted: true });
      await expect(c.read(key)).rejects.toMatchObject({ status: 404 });
      expect((await c.list({ prefix: key })).secrets).toEqual([]);
      // The key can be created again, at version 1.
      expect((await c.create(key, 'again')).version).toBe(1);
    });

    it('with the current ifVersion', async () => {
      const key = `${slug}/del-if`;
      await c.create(key, 'x');
      await c.update(key, { value: 'y' });
      expect(await c.delete(key, { ifVersion: 2 })).toEqual({ key, deleted: true });
      await expect(c.read(key)).rejects.toMatchObject({ status: 404 });
    });
  });
});

describe('a hand-built JSON envelope (node:crypto only) is served', () => {
  it('create, read, whoami', async () => {
    const caller = stack.issuer.caller('indie');
    const subject = (op: string) => `secret.${op}`;
    const head = (op: string) => ({ op, aud: 'secret-svc', ts: Date.now(), nonce: `indie-${Date.now()}-${Math.random().toString(36).slice(2, 10)}` });

    const created = expectOk(await send(stack.nc, subject('create'), handBuiltJsonEnvelope(caller, { ...head('create'), key: 'indie/K', value: 'from a stranger' })), 'json');
    expect(created).toMatchObject({ key: 'indie/K', version: 1, readers: ['indie'], writers: ['indie'], deleters: ['indie'] });
    const read = expectOk(await send(stack.nc, subject('read'), handBuiltJsonEnvelope(caller, { ...head('read'), key: 'indie/K' })), 'json');
    expect(read).toEqual({ ...created, value: 'from a stranger' });
    const who = expectOk(await send(stack.nc, subject('whoami'), handBuiltJsonEnvelope(caller, head('whoami'))), 'json');
    expect(who).toEqual({ slug: 'indie', admin: false, issuer: stack.issuer.publicKey, expiresAt: null });
  });
});
