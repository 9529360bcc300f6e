/** Real nats-server and redis-server processes on free ports, owned by the test that starts them. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
  constructor(readonly name: string, readonly port: number, private readonly command: string, private readonly args: string[]) {}

  async start(): Promise<this> {
    this.proc = spawn(this.command, this.args, { stdio: 'ignore' });
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

export class NatsServer extends ServerProcess {
  constructor(port: number, extra: string[] = []) {
    super('nats-server', port, 'nats-server', ['-a', '127.0.0.1', '-p', String(port), ...extra]);
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  static async start(extra: string[] = []): Promise<NatsServer> {
    return new NatsServer(await freePort(), extra).start();
  }
}
