/** NATS and Redis for `secret-svc dev`: probe the given URLs, or start our own from PATH. */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { delimiter, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { buildEnvelope, DEFAULT_AUDIENCE, DEFAULT_SUBJECT_PREFIX, parsePrivateJwk, privateKeyObject, requestHead } from '@secret-svc/protocol';
import { connect } from 'nats';
import { Redis } from 'ioredis';

/** True when a NATS server answers at `url` (a full handshake, not just an open port). */
export async function natsAnswers(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1500, reconnect: false, maxReconnectAttempts: 0, noAsyncTraces: true });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** True when `$SRV.PING.<name>` gets an answer: another worker already serves these subjects. */
export async function serviceAnswers(url: string, name: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1500, reconnect: false, maxReconnectAttempts: 0, noAsyncTraces: true });
    try {
      await nc.request(`$SRV.PING.${name}`, undefined, { timeout: 500 });
      return true;
    } catch {
      return false;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

/**
 * True when a worker on `url` answers `whoami` for dev's admin credential: it trusts dev's issuer,
 * so it is a worker of this dev service (a second worker started with `dev --print-worker-env`),
 * which dev's own worker may join; any other worker there is a different service.
 */
export async function servesThisIssuer(url: string, credentialFile: string, adminKeyFile: string): Promise<boolean> {
  try {
    const key = privateKeyObject(parsePrivateJwk(JSON.parse(readFileSync(adminKeyFile, 'utf8'))));
    const body = buildEnvelope(readFileSync(credentialFile, 'utf8').trim(), key, requestHead('whoami', DEFAULT_AUDIENCE), 'json');
    const nc = await connect({ servers: url, timeout: 1500, reconnect: false, maxReconnectAttempts: 0, noAsyncTraces: true });
    try {
      const reply = await nc.request(`${DEFAULT_SUBJECT_PREFIX}.whoami`, body, { timeout: 3000 });
      const r = JSON.parse(new TextDecoder().decode(reply.data)) as { slug?: unknown; error?: unknown };
      return r.error === undefined && typeof r.slug === 'string';
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

/** True when Redis answers PING at `url`. */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** The full path of `cmd` on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, cmd);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `preferred` when it is free (so a second run keeps its URLs), else any free port. */
export async function pickPort(preferred?: number): Promise<number> {
  const tryListen = (port: number) => new Promise<number | undefined>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => resolve(p));
    });
  });
  return (preferred !== undefined ? await tryListen(preferred) : undefined) ?? (await tryListen(0))!;
}

/**
 * The dev Redis's memory bounds, as in deploy/redis.conf: it refuses writes (never evicts)
 * beyond `maxmemory`, and drops a connection whose unread replies pass the output buffer
 * limits instead of growing without end (the worker's own budgets keep it far below them).
 */
export const DEV_REDIS_MEMORY = [
  '--maxmemory', '512mb', '--maxmemory-policy', 'noeviction',
  // Above a worker's own bound on the replies it has Redis build (SECRET_SVC_MAX_REPLY_BYTES, 64 MiB).
  '--client-output-buffer-limit', 'normal 256mb 64mb 60',
];

export class ChildServer {
  private constructor(readonly name: string, readonly url: string, private readonly proc: ChildProcess) {}

  /**
   * Starts `command args` (output appended to `logFile`) and waits for its port. Its own process
   * group, so a Ctrl-C reaches only us and we stop it after the worker has drained.
   */
  static async start(name: string, command: string, args: string[], port: number, url: string, logFile: string): Promise<ChildServer> {
    const log = openSync(logFile, 'a', 0o600);
    const proc = spawn(command, args, { stdio: ['ignore', log, log], detached: true });
    let failed: Error | undefined;
    proc.once('error', (err) => { failed = err; });
    const server = new ChildServer(name, url, proc);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (failed) throw new Error(`${name} failed to start: ${failed.message}`);
      if (proc.exitCode !== null) throw new Error(`${name} exited at once (code ${proc.exitCode}); see ${logFile}`);
      if (await portOpen(port)) return server;
      if (Date.now() > deadline) {
        server.kill();
        throw new Error(`${name} did not open port ${port} within 10 s; see ${logFile}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (Redis then writes its AOF out), resolving once it is gone. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort from process 'exit'. */
  kill(): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * The dev nats-server: JetStream on (the audit trail needs it, docs/protocol.md §11), its store in
 * `<stateDir>/jetstream` so the trail survives a restart of `dev`.
 */
export async function startDevNats(bin: string, port: number, stateDir: string): Promise<ChildServer> {
  const storeDir = join(stateDir, 'jetstream');
  mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir];
  return ChildServer.start('nats-server', bin, args, port, `nats://127.0.0.1:${port}`, join(stateDir, 'nats.log'));
}
