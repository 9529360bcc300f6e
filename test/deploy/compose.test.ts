/**
 * The shipped deployment, run for real. No Docker engine runs here, so this test stands in for
 * `docker compose up`: it starts the services of docker-compose.yml as local processes with
 * their real configuration: `nats-server -c deploy/nats.conf` with the compose passwords,
 * Redis through deploy/redis-start.sh with deploy/redis.conf and its password as compose gives
 * it, two workers with exactly the worker service's environment (parsed from the file,
 * variables substituted as compose does; only the hostnames `nats`/`redis`, the ports and the
 * mounted secret paths differ), and the worker healthcheck. Mounted files and named volumes
 * become their host paths; what a test machine needs otherwise (ports, Redis's directory) is
 * given as command-line flags, never an edited copy of a file. Then the compose flow of docs/deploy.md runs through the real CLI, as the
 * administrator and as deploy-svc, and what each NATS user must not do is tried.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJwk } from '@secret-svc/protocol';
import type { AuditEvent } from '../../src/audit/index.js';
import { cli, runProgram, type CliResult } from '../cli/run-cli.js';
import { TestIssuer } from '../helpers/identities.js';
import { isPermissionsViolation, publishRefused } from '../helpers/permissions.js';
import { ROOT, spawnWorker, type WorkerProcess } from '../helpers/process.js';
import { freePort, ServerProcess } from '../helpers/servers.js';
import { commandOf, envOf, onHost, resolveCompose, secretFiles, type Compose } from './compose-file.js';

const STREAM = 'SECRET_SVC_AUDIT';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The host's side of docs/deploy.md's steps: the variables a user exports before `docker compose up`. */
function hostEnvironment(dir: string, issuer: TestIssuer): Record<string, string> {
  const encryptionKey = join(dir, 'encryption.key');
  const serviceKey = join(dir, 'service.jwk');
  writeFileSync(encryptionKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  writeFileSync(serviceKey, `${JSON.stringify(generateJwk())}\n`, { mode: 0o600 });
  return {
    SECRET_SVC_ISSUERS: issuer.publicKey,
    SECRET_SVC_UID: String(process.getuid?.() ?? 1000),
    SECRET_SVC_GID: String(process.getgid?.() ?? 1000),
    // As docs/deploy.md makes them (p$(openssl rand -hex 24)): nats-server reads a variable as a
    // value, so one of digits only would be a number, not a password.
    NATS_WORKER_PASSWORD: `p${randomBytes(24).toString('hex')}`,
    NATS_ADMIN_PASSWORD: `p${randomBytes(24).toString('hex')}`,
    NATS_DEPLOY_SVC_PASSWORD: `p${randomBytes(24).toString('hex')}`,
    REDIS_PASSWORD: randomBytes(32).toString('hex'),
    SECRET_SVC_ENCRYPTION_KEY_HOST_FILE: encryptionKey,
    SECRET_SVC_SERVICE_KEY_HOST_FILE: serviceKey,
  };
}

/** A caller's files, as `secret-svc keygen` and `issue` write them. */
function callerFiles(dir: string, issuer: TestIssuer, slug: string, admin = false): { SECRET_SVC_CREDENTIAL_FILE: string; SECRET_SVC_KEY_FILE: string } {
  const c = issuer.caller(slug, { admin, ttlSeconds: 3600 });
  const credential = join(dir, `${slug}.cred`);
  const key = join(dir, `${slug}.jwk`);
  writeFileSync(credential, `${c.credential}\n`, { mode: 0o600 });
  writeFileSync(key, `${JSON.stringify(c.key)}\n`, { mode: 0o600 });
  return { SECRET_SVC_CREDENTIAL_FILE: credential, SECRET_SVC_KEY_FILE: key };
}

describe('docker-compose.yml, its services run as local processes', { timeout: 180_000 }, () => {
  const issuer = new TestIssuer();
  let dir: string;
  let host: Record<string, string>;
  let compose: Compose;
  let nats: ServerProcess;
  let redis: ServerProcess;
  let natsPort: number;
  let httpPort: number;
  let redisPort: number;
  let workerEnv: Record<string, string>;
  const workers: WorkerProcess[] = [];
  const opened: NatsConnection[] = [];
  let admin: Record<string, string>;
  let service: Record<string, string>;

  /** A NATS login as one of deploy/nats.conf's users, on its inbox prefix. */
  const login = async (user: string, pass: string, inboxPrefix: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: `127.0.0.1:${natsPort}`, user, pass, inboxPrefix, noAsyncTraces: true });
    opened.push(nc);
    return nc;
  };
  const asAdmin = () => login('secret-svc-admin', host.NATS_ADMIN_PASSWORD!, '_INBOX_secret-svc-admin');
  const asService = () => login('deploy-svc', host.NATS_DEPLOY_SVC_PASSWORD!, '_INBOX_deploy-svc');
  const asWorker = () => login('secret-svc-worker', host.NATS_WORKER_PASSWORD!, '_INBOX_secret-svc-worker');
  const secretSvc = (env: Record<string, string>, args: string[], input?: string): Promise<CliResult> => cli(args, { env, input });

  /** The trail as the administrator reads its state (it may; no other user but the workers may). */
  let reader: JetStreamManager;
  const trailState = async () => (await reader.streams.info(STREAM)).state;
  /** Nothing purged or deleted: the first event is still there and there are no holes. */
  const expectIntact = async (before: { first_seq: number; messages: number }) => {
    const now = await trailState();
    expect(now.first_seq).toBe(before.first_seq);
    expect(now.messages).toBeGreaterThanOrEqual(before.messages);
    expect(now.messages).toBe(now.last_seq - now.first_seq + 1);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'secret-svc-compose-'));
    host = hostEnvironment(dir, issuer);
    compose = resolveCompose(host);
    [natsPort, httpPort, redisPort] = [await freePort(), await freePort(), await freePort()];
    const local = { nats: natsPort, redis: redisPort } as Record<string, number>;
    // The named volumes (nats-data, redis-data): directories here.
    const volumes = join(dir, 'volumes');
    for (const name of Object.keys(compose.volumes ?? {})) mkdirSync(join(volumes, name), { recursive: true });

    // nats: the image's entry point is nats-server; its environment holds the passwords.
    const natsService = compose.services.nats!;
    nats = new ServerProcess('nats', natsPort, 'nats-server', [
      ...onHost(commandOf(natsService), natsService, volumes), '-a', '127.0.0.1', '-p', String(natsPort), '-m', String(httpPort),
    ], { PATH: process.env.PATH, ...envOf(natsService) });

    // redis: the command without the image's entry point (it only switches from root to the redis user).
    const redisService = compose.services.redis!;
    const redisCommand = onHost(commandOf(redisService), redisService, volumes).filter((a) => a !== 'docker-entrypoint.sh');
    // The image runs Redis in its /data (the redis-data volume); here --dir says where that is.
    const redisData = join(volumes, 'redis-data');
    redis = new ServerProcess('redis', redisPort, redisCommand[0]!, [
      ...redisCommand.slice(1), '--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisData,
    ], { PATH: process.env.PATH, ...envOf(redisService) });
    await Promise.all([nats.start(), redis.start()]);

    // The worker's environment exactly as compose gives it, pointed at the local services and secret files.
    const workerService = compose.services.worker!;
    const secrets = secretFiles(compose, workerService);
    workerEnv = Object.fromEntries(Object.entries(envOf(workerService)).map(([name, value]) => [
      name,
      secrets.get(value) ?? value.replace(/(\/\/|@)(nats|redis):\d+/g, (_m, lead: string, svc: string) => `${lead}127.0.0.1:${local[svc]}`),
    ]));
    const replicas = workerService.deploy?.replicas ?? 1;
    workers.push(...await Promise.all(Array.from({ length: replicas }, () => spawnWorker(workerEnv, { timeoutMs: 60_000 }))));

    reader = await (await asAdmin()).jetstreamManager();
    const base = { NATS_URL: `nats://127.0.0.1:${natsPort}`, SECRET_SVC_SERVICE_PUBLIC_KEY: (JSON.parse(readFileSync(host.SECRET_SVC_SERVICE_KEY_HOST_FILE!, 'utf8')) as { x: string }).x };
    admin = { ...base, NATS_USER: 'secret-svc-admin', NATS_PASSWORD: host.NATS_ADMIN_PASSWORD!, NATS_INBOX_PREFIX: '_INBOX_secret-svc-admin', ...callerFiles(dir, issuer, 'admin', true) };
    service = { ...base, NATS_USER: 'deploy-svc', NATS_PASSWORD: host.NATS_DEPLOY_SVC_PASSWORD!, NATS_INBOX_PREFIX: '_INBOX_deploy-svc', ...callerFiles(dir, issuer, 'deploy-svc') };
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(opened.map((nc) => nc.close()));
    await Promise.allSettled(workers.map((w) => w.stop()));
    await nats?.stop();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts every service; NATS, Redis and the workers pass their compose healthchecks', async () => {
    for (const w of workers) expect(w.proc.exitCode, w.output()).toBeNull();
    const healthz = await fetch(`http://127.0.0.1:${httpPort}/healthz?js-enabled-only=true`);
    expect(healthz.status).toBe(200);
    const redisEnv = envOf(compose.services.redis!);
    const ping = await runProgram('redis-cli', ['-p', String(redisPort), 'ping'], { env: { PATH: process.env.PATH ?? '', ...redisEnv } });
    expect(ping.stdout.trim()).toBe('PONG');
    const anonymous = await runProgram('redis-cli', ['-p', String(redisPort), 'ping'], { env: { PATH: process.env.PATH ?? '' } });
    expect(anonymous.stdout).toMatch(/NOAUTH/);
    const maxmemory = await runProgram('redis-cli', ['-p', String(redisPort), 'config', 'get', 'maxmemory'], { env: { PATH: process.env.PATH ?? '', ...redisEnv } });
    expect(maxmemory.stdout.split('\n')[1]).toBe(String(1024 ** 3));
    // No password is on any command line (`ps` shows those to every user of the host).
    const commandLines = (await runProgram('ps', ['-eo', 'args'], { env: { PATH: process.env.PATH ?? '' } })).stdout;
    expect(commandLines).toContain(`redis-server 127.0.0.1:${redisPort}`); // Redis's own process title
    expect(commandLines).toContain(`-p ${natsPort}`);
    for (const name of ['REDIS_PASSWORD', 'NATS_WORKER_PASSWORD', 'NATS_ADMIN_PASSWORD', 'NATS_DEPLOY_SVC_PASSWORD']) {
      expect(commandLines.includes(host[name]!), name).toBe(false);
    }

    const [cmd, ...args] = compose.services.worker!.healthcheck!.test as string[];
    expect(cmd).toBe('CMD');
    expect(args[0]).toBe('node');
    const health = await runProgram(process.execPath, args.slice(1), { env: { PATH: process.env.PATH ?? '', ...workerEnv } });
    expect(health.code, health.stderr).toBe(0);
  });

  it('runs the README flow: whoami, set, get, run, audit and revoke, as the administrator and as deploy-svc', async () => {
    const whoami = await secretSvc(admin, ['whoami']);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ slug: 'admin', admin: true });

    expect((await secretSvc(admin, ['set', 'demo/GREETING'], 'hello, world\n')).code).toBe(0);
    const greeting = await secretSvc(admin, ['get', 'demo/GREETING']);
    expect(greeting.code, greeting.stderr).toBe(0);
    expect(greeting.stdout).toBe('hello, world\n');

    const created = await secretSvc(service, ['set', 'deploy-svc/DB_PASSWORD'], 's3cret\n');
    expect(created.code, created.stderr).toBe(0);
    expect((await secretSvc(service, ['get', 'deploy-svc/DB_PASSWORD'])).stdout).toBe('s3cret\n');
    const ran = await secretSvc(service, ['run', '--prefix', 'deploy-svc/', '--strip-prefix', '--', process.execPath, '-e', 'process.stdout.write(process.env.DB_PASSWORD ?? "unset")']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('s3cret');
    // deploy-svc reads what its lists allow, no more.
    expect((await secretSvc(service, ['get', 'demo/GREETING'])).code).toBe(3);

    const audit = await secretSvc(admin, ['audit', '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    const events = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(events).toEqual(expect.arrayContaining([
      expect.objectContaining({ op: 'whoami', slug: 'admin', status: 200 }),
      expect.objectContaining({ op: 'create', slug: 'deploy-svc', key: 'deploy-svc/DB_PASSWORD', status: 200 }),
      expect.objectContaining({ op: 'read', slug: 'deploy-svc', key: 'deploy-svc/DB_PASSWORD', status: 200 }),
    ]));

    const revoked = await secretSvc(admin, ['revoke', '--slug', 'deploy-svc', '--issued-before', 'now']);
    expect(revoked.code, revoked.stderr).toBe(0);
    // Every worker refuses it within about a second (the hint reaches the other worker).
    let refusedBy = 0;
    for (let i = 0; i < 2; i++) {
      const after = await secretSvc(service, ['get', 'deploy-svc/DB_PASSWORD']);
      if (after.code === 5) refusedBy++;
    }
    expect(refusedBy).toBe(2);
  });

  it('deploy-svc can neither purge nor read the trail, nor publish as a worker', async () => {
    const svc = await asService();
    const before = await trailState();
    expect(before.messages).toBeGreaterThan(0);
    const jsm = await svc.jetstreamManager({ checkAPI: false });
    await expect(jsm.streams.purge(STREAM)).rejects.toSatisfy(isPermissionsViolation);
    await expect(jsm.streams.info(STREAM)).rejects.toSatisfy(isPermissionsViolation);
    await expect(jsm.streams.getMessage(STREAM, { seq: before.first_seq })).rejects.toSatisfy(isPermissionsViolation);
    await expect(jsm.consumers.add(STREAM, { ack_policy: 'none' as never })).rejects.toSatisfy(isPermissionsViolation);
    await expect(svc.jetstream().consumers.get(STREAM)).rejects.toSatisfy(isPermissionsViolation);
    expect(await publishRefused(svc, 'secret.audit.read', JSON.stringify({ v: 1, op: 'read', status: 200, slug: 'forged' }))).toBe(true);
    expect(await publishRefused(svc, 'secret.internal.revocations')).toBe(true);
    expect(await publishRefused(svc, `$JS.API.STREAM.PURGE.${STREAM}`)).toBe(true);
    // A request whose reply subject is the trail's purge: the worker's reply cannot reach it.
    svc.publish('secret.whoami', 'not an envelope', { reply: `$JS.API.STREAM.PURGE.${STREAM}` });
    await svc.flush();
    await sleep(500);
    await expectIntact(before);
  });

  it('the administrator reads the trail but cannot purge, delete from, reconfigure or write it', async () => {
    const nc = await asAdmin();
    const before = await trailState();
    const jsm = await nc.jetstreamManager();
    await expect(jsm.streams.update(STREAM, { max_msgs: 1 })).rejects.toSatisfy(isPermissionsViolation);
    await expectTrailLocked(jsm, before.first_seq);
    expect(await publishRefused(nc, 'secret.audit.read', JSON.stringify({ v: 1, op: 'read', status: 200, slug: 'forged' }))).toBe(true);
    expect((await jsm.streams.getMessage(STREAM, { seq: before.first_seq })).seq).toBe(before.first_seq);
    // A discovery request (answered by the NATS library on any reply subject) aimed at the trail's API.
    for (const api of ['STREAM.PURGE', 'STREAM.DELETE', 'STREAM.UPDATE', 'STREAM.MSG.DELETE']) {
      nc.publish('$SRV.PING.secret-svc', '', { reply: `$JS.API.${api}.${STREAM}` });
      nc.publish('$SRV.INFO', '', { reply: `$JS.API.${api}.${STREAM}` });
    }
    await nc.flush();
    await sleep(500);
    await expectIntact(before);
    expect((await reader.streams.info(STREAM)).config).toMatchObject({ max_msgs: -1, storage: 'file' });
  });

  it('workers can neither purge nor delete from the trail', async () => {
    const nc = await asWorker();
    const before = await trailState();
    const jsm = await nc.jetstreamManager();
    await expectTrailLocked(jsm, before.first_seq);
    await expectIntact(before);
  });

  it('keeps answering after all of that: no refused reply or subscription broke a worker', async () => {
    const whoami = await secretSvc(admin, ['whoami']);
    expect(whoami.code, whoami.stderr).toBe(0);
    for (const w of workers) {
      expect(w.proc.exitCode, w.output()).toBeNull();
      // Each answered the discovery requests; NATS refused the replies aimed at the trail's API, and the worker said so.
      const refusals = w.output().split('\n').filter((l) => l.includes('"NATS reported an error"'));
      expect(refusals.some((l) => l.includes('"operation":"publish"') && l.includes(`"subject":"$JS.API.STREAM.PURGE.${STREAM}"`)), w.output()).toBe(true);
    }
    const [, ...args] = compose.services.worker!.healthcheck!.test as string[];
    expect((await runProgram(process.execPath, args.slice(1), { env: { PATH: process.env.PATH ?? '', ...workerEnv } })).code).toBe(0);
  });
});

/** `jsm`'s user may neither purge the trail, delete a message or the stream, nor make a stream of its own. */
async function expectTrailLocked(jsm: JetStreamManager, firstSeq: number): Promise<void> {
  await expect(jsm.streams.purge(STREAM)).rejects.toSatisfy(isPermissionsViolation);
  await expect(jsm.streams.deleteMessage(STREAM, firstSeq)).rejects.toSatisfy(isPermissionsViolation);
  await expect(jsm.streams.delete(STREAM)).rejects.toSatisfy(isPermissionsViolation);
  await expect(jsm.streams.add({ name: 'FORGED', subjects: ['forged.>'] })).rejects.toSatisfy(isPermissionsViolation);
}
