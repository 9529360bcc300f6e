/**
 * The client package's daily-use behaviour (item 8-11 of issue 13): one deadline per call with
 * honest messages, AbortSignal, NATS down as UnavailableError, typed identity errors, any
 * connection with the right shape, and fromEnv with the CLI's variables.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { IdentityError, loadIdentity, SecretClient, UnavailableError, type NatsRequester } from '@secret-svc/client';
import { freePort } from '../../test/helpers/servers.js';
import type { Stack } from '../../test/helpers/stack.js';
import { callerEnv, tempDir, useStack } from '../../test/cli/callers.js';

const stackOf = useStack();
let stack: Stack;
beforeEach(() => { stack = stackOf(); });

describe('deadlines', () => {
  it('a call that gets no reply fails after one overall deadline, saying how long it waited', async () => {
    const caller = stack.issuer.caller('late-svc');
    // Somebody answers nothing: subscribe to the subject and stay silent.
    const silent = stack.nc.subscribe('silent.whoami');
    const client = await SecretClient.connect({ nc: stack.nc, credential: caller.credential, key: caller.key, subjectPrefix: 'silent', timeoutMs: 600 });
    const started = Date.now();
    const err = await client.whoami().catch((e: unknown) => e);
    const waited = Date.now() - started;
    silent.unsubscribe();
    expect(err).toBeInstanceOf(UnavailableError);
    const stated = Number(/after (\d+) ms/.exec((err as Error).message)?.[1]);
    expect((err as Error).message).toMatch(/^no reply on silent\.whoami after \d+ ms \(3 attempts\)$/);
    // The message states the time really waited (not a per-attempt figure).
    expect(stated).toBeGreaterThanOrEqual(590);
    expect(stated).toBeLessThanOrEqual(waited);
  });

  it('a per-call timeout replaces the default, and an AbortSignal gives up at once', async () => {
    const caller = stack.issuer.caller('abort-svc');
    const silent = stack.nc.subscribe('quiet.read');
    const client = await SecretClient.connect({ nc: stack.nc, credential: caller.credential, key: caller.key, subjectPrefix: 'quiet', timeoutMs: 60_000 });
    const timedOut = await client.read('abort-svc/K', { timeout: 300 }).catch((e: unknown) => e);
    expect((timedOut as Error).message).toMatch(/^no reply on quiet\.read after \d+ ms/);
    const controller = new AbortController();
    const pending = client.read('abort-svc/K', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error('user gave up'));
    expect(((await pending) as Error).message).toBe('user gave up');
    const already = await client.read('abort-svc/K', { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((already as Error).name).toBe('AbortError');
    silent.unsubscribe();
  });
});

describe('connecting', () => {
  it('NATS down is an UnavailableError carrying the NATS error as its cause', async () => {
    const caller = stack.issuer.caller('down-svc');
    const port = await freePort();
    const err = await SecretClient.connect({
      servers: `nats://127.0.0.1:${port}`, credential: caller.credential, key: caller.key, natsOptions: { maxReconnectAttempts: 0 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toContain(`cannot connect to NATS at nats://127.0.0.1:${port}`);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('CONNECTION_REFUSED');
  });

  it('identity problems are IdentityErrors saying which setting and what is wrong', () => {
    const caller = stack.issuer.caller('id-svc');
    const other = stack.issuer.caller('id-svc');
    const problem = (f: () => unknown) => { try { f(); } catch (e) { return [(e as IdentityError).constructor, (e as IdentityError).problem, (e as Error).message]; } return undefined; };
    expect(problem(() => loadIdentity({ credentialFile: '/nonexistent/cred', key: caller.key, sources: { credentialFile: 'MY_VAR' } })))
      .toEqual([IdentityError, 'unreadable', 'cannot read the credential file /nonexistent/cred (named by MY_VAR): no such file']);
    expect(problem(() => loadIdentity({ key: caller.key }))?.slice(0, 2)).toEqual([IdentityError, 'missing']);
    expect(problem(() => loadIdentity({ credential: 'not.a.jws', key: caller.key }))?.slice(0, 2)).toEqual([IdentityError, 'invalid']);
    expect(problem(() => loadIdentity({ credential: caller.credential, key: '{' }))?.slice(0, 2)).toEqual([IdentityError, 'invalid']);
    expect(problem(() => loadIdentity({ credential: caller.credential, key: other.key }))?.slice(0, 2)).toEqual([IdentityError, 'mismatch']);
  });

  it('takes any connection with the right shape (nats v2, or @nats-io/transport-node 3.x by type)', async () => {
    // nats v2's NatsConnection fits.
    const nc = await connect({ servers: stack.nats.url });
    expectTypeOf(nc).toExtend<NatsRequester>();
    // The shape of a transport-node 3.x connection as far as the client uses it: other option
    // and message types, extra members; it fits too (this line is checked by tsc).
    interface V3Msg { subject: string; data: Uint8Array; headers?: { get(k: string, match?: number): string; has(k: string): boolean }; json<T>(): T; string(): string }
    interface V3Connection {
      request(subject: string, payload?: string | Uint8Array, opts?: { timeout: number; headers?: unknown; noMux?: boolean }): Promise<V3Msg>;
      flush(): Promise<void>; close(): Promise<void>; closed(): Promise<void | Error>; isClosed(): boolean; drain(): Promise<void>;
    }
    expectTypeOf<V3Connection>().toExtend<NatsRequester>();
    const caller = stack.issuer.caller('nc-svc');
    const client = await SecretClient.connect({ nc, credential: caller.credential, key: caller.key });
    expect((await client.whoami()).slug).toBe('nc-svc');
    await client.close();
    expect(nc.isClosed()).toBe(false); // not the client's to close
    await nc.close();
  });

  it('fromEnv reads the CLI variables', async () => {
    const env = callerEnv(stack, 'env-svc');
    const client = await SecretClient.fromEnv(env);
    expect((await client.whoami()).slug).toBe('env-svc');
    await client.close();
    // The credential from a file, as SECRET_SVC_CREDENTIAL_FILE names it.
    const file = join(tempDir('env'), 'cred');
    writeFileSync(file, `${env.SECRET_SVC_CREDENTIAL}\n`);
    const fromFile = await SecretClient.fromEnv({ ...env, SECRET_SVC_CREDENTIAL: '', SECRET_SVC_CREDENTIAL_FILE: file });
    expect(fromFile.slug).toBe('env-svc');
    await fromFile.close();
    const missing = await SecretClient.fromEnv({ ...env, SECRET_SVC_CREDENTIAL: '', SECRET_SVC_CREDENTIAL_FILE: `${file}.gone` }).catch((e: unknown) => e);
    expect((missing as Error).message).toContain('(named by SECRET_SVC_CREDENTIAL_FILE)');
    const badLogin = await SecretClient.fromEnv({ ...env, NATS_USER: 'x' }).catch((e: unknown) => e);
    expect((badLogin as Error).message).toBe('NATS_USER and NATS_PASSWORD go together');
  });
});
