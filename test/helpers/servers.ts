/** Real nats-server and redis-server processes on free ports, owned by the test that starts them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class ServerProcess {
  private proc: ChildProcess | undefined;
  /** `env`: the process's whole environment (default: this process's). */
  constructor(
    readonly name: string, readonly port: number, private readonly command: string, private readonly args: string[],
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  /** The command line of the next start (a subclass may vary it between restarts). */
  protected argv(): string[] {
    return this.args;
  }

  async start(): Promise<this> {
    this.proc = spawn(this.command, this.argv(), { stdio: 'ignore', ...(this.env ? { env: this.env } : {}) });
    this.proc.on('error', () => {});
    await waitForPort(this.port);
    return this;
  }

  /** SIGTERM (clean) or SIGKILL (crash); resolves once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

export class RedisServer extends ServerProcess {
  readonly dir: string;
  constructor(port: number, extra: string[] = []) {
    const dir = mkdtempSync(join(tmpdir(), 'secret-svc-redis-'));
    super('redis-server', port, 'redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra,
    ]);
    this.dir = dir;
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  static async start(extra: string[] = []): Promise<RedisServer> {
    return new RedisServer(await freePort(), extra).start();
  }
  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** JetStream store directories of this test process, removed at exit should a test not stop its server. */
const natsStores = new Set<string>();
process.once('exit', () => {
  for (const dir of natsStores) rmSync(dir, { recursive: true, force: true });
});

/**
 * nats-server with JetStream (`-js`) and its store in a temporary directory (`-sd`), as every
 * worker needs it (the audit trail, docs/protocol.md §11). restart() keeps the store, stop()
 * removes it. Set `jetstream = false` before a (re)start to run without JetStream.
 */
export class NatsServer extends ServerProcess {
  readonly storeDir: string;
  jetstream = true;
  constructor(port: number, private readonly extra: string[] = []) {
    super('nats-server', port, 'nats-server', []);
    this.storeDir = mkdtempSync(join(tmpdir(), 'secret-svc-nats-js-'));
    natsStores.add(this.storeDir);
  }
  protected override argv(): string[] {
    const js = this.jetstream ? ['-js', '-sd', this.storeDir] : [];
    // A JetStream cluster needs a name per server.
    return ['-a', '127.0.0.1', '-p', String(this.port), '-n', `nats-${this.port}`, ...js, ...this.extra];
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  static async start(extra: string[] = []): Promise<NatsServer> {
    return new NatsServer(await freePort(), extra).start();
  }
  override async start(): Promise<this> {
    mkdirSync(this.storeDir, { recursive: true });
    natsStores.add(this.storeDir);
    return super.start();
  }
  /** Stops the server and removes its store; `keepStore` for a stop that a start follows. */
  override async stop(signal: NodeJS.Signals = 'SIGTERM', keepStore = false): Promise<void> {
    await super.stop(signal);
    if (!keepStore) {
      rmSync(this.storeDir, { recursive: true, force: true });
      natsStores.delete(this.storeDir);
    }
  }
  override async restart(): Promise<void> {
    await this.stop('SIGTERM', true);
    await this.start();
  }
}
