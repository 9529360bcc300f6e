/** The `secret-svc dev` sequence: files, servers, worker, instructions, clean stop. */
import { isAbsolute, join, relative } from 'node:path';
import { DEFAULT_NATS_URL } from '@secret-svc/protocol';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../log.js';
import { WrongKeyError } from '../../store/canary.js';
import { startWorker, type Worker } from '../../worker.js';
import type { DevFlags } from '../commands/dev.js';
import { CliError, EXIT } from '../exit.js';
import { ChildServer, DEV_REDIS_MEMORY, natsAnswers, pickPort, redisAnswers, serviceAnswers, startDevNats, which } from './servers.js';
import { DEV_CREDENTIAL_RENEW_BELOW_SECONDS, devState, readPorts, writePorts, type DevState } from './state.js';

const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
/** How the printed examples call the CLI (works in the project directory after `npm ci`). */
export const CLI = 'npx secret-svc';

interface Endpoint {
  url: string;
  /** Set when dev started the server itself. */
  own?: ChildServer;
}

export async function runDev(o: DevFlags, natsUrlFlag?: string): Promise<void> {
  const state = devState(o.dir);
  const saved = readPorts(state);
  const started: ChildServer[] = [];
  const stopServers = async () => { await Promise.all(started.map((s) => s.stop())); };
  process.on('exit', () => started.forEach((s) => s.kill()));

  let nats: Endpoint | undefined;
  let redis: Endpoint | undefined;
  const missing: string[] = [];
  try {
    nats = await resolveNats(natsUrlFlag, o.startServers, saved.nats, state, started);
    redis = await resolveRedis(o.redisUrl, o.startServers, saved.redis, state, started);
    if (!nats) missing.push('nats-server');
    if (!redis) missing.push('redis-server');
    if (missing.length) throw new CliError(installHelp(missing, o.startServers), EXIT.unavailable);
    writePorts(state, {
      ...(nats!.own ? { nats: Number(new URL(nats!.url).port) } : {}),
      ...(redis!.own ? { redis: Number(new URL(redis!.url).port) } : {}),
    });
    if (!nats!.own && (await serviceAnswers(nats!.url, 'secret-svc'))) {
      throw new CliError(
        `a secret-svc worker already answers on ${nats!.url} (another \`secret-svc dev\`, or the docker compose worker?): ` +
          'stop it first, or run `secret-svc dev --start-servers` to use servers of its own', EXIT.conflict);
    }
  } catch (err) {
    await stopServers();
    throw err;
  }

  const config = loadConfig({
    NATS_URL: nats!.url,
    REDIS_URL: redis!.url,
    SECRET_SVC_ISSUERS: state.issuer.x,
    SECRET_SVC_ENCRYPTION_KEY_FILE: state.encryptionKeyFile,
    SECRET_SVC_SERVICE_KEY: state.serviceKeyFile,
    SECRET_SVC_REDIS_PREFIX: o.redisPrefix,
    LOG_LEVEL: o.logLevel,
  });
  // Logs on stderr, so stdout carries only the instructions below.
  const log = createLogger(config.logLevel, 'stderr');
  let worker: Worker;
  try {
    worker = await startWorker(config, log);
  } catch (err) {
    await stopServers();
    if (err instanceof WrongKeyError) {
      throw new CliError(`${err.message}\nThat Redis already holds other secret-svc data under "${o.redisPrefix}": ` +
        'run with --redis-prefix secret-svc-dev: or --start-servers', EXIT.other);
    }
    throw err;
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping the worker${started.length ? ' and the servers it started' : ''}\n`);
    try {
      await worker.stop();
    } finally {
      await stopServers();
    }
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));

  process.stdout.write(banner(state, nats!, redis!, o.redisPrefix));
}

async function resolveNats(flag: string | undefined, startServers: boolean | undefined, port: number | undefined, state: DevState, started: ChildServer[]): Promise<Endpoint | undefined> {
  if (flag) {
    if (!(await natsAnswers(flag))) throw new CliError(`NATS does not answer at ${flag}`, EXIT.unavailable);
    return { url: flag };
  }
  if (!startServers && (await natsAnswers(DEFAULT_NATS_URL))) return { url: DEFAULT_NATS_URL };
  const bin = which('nats-server');
  if (!bin) return undefined;
  const p = await pickPort(port);
  const url = `nats://127.0.0.1:${p}`;
  const own = await startDevNats(bin, p, state.dir);
  started.push(own);
  return { url, own };
}

async function resolveRedis(flag: string | undefined, startServers: boolean | undefined, port: number | undefined, state: DevState, started: ChildServer[]): Promise<Endpoint | undefined> {
  if (flag) {
    if (!(await redisAnswers(flag))) throw new CliError(`Redis does not answer at ${flag}`, EXIT.unavailable);
    return { url: flag };
  }
  if (!startServers && (await redisAnswers(DEFAULT_REDIS))) return { url: DEFAULT_REDIS };
  const bin = which('redis-server');
  if (!bin) return undefined;
  const p = await pickPort(port);
  const url = `redis://127.0.0.1:${p}`;
  // AOF in --dir: the data survives this process, and a second run finds it again.
  const own = await ChildServer.start('redis-server', bin, [
    '--port', String(p), '--bind', '127.0.0.1', '--dir', state.redisDir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no',
    ...DEV_REDIS_MEMORY,
  ], p, url, join(state.dir, 'redis.log'));
  started.push(own);
  return { url, own };
}

function installHelp(missing: string[], startServers: boolean | undefined): string {
  const where = startServers ? '' : ` and nothing answers on ${missing.map((m) => (m === 'nats-server' ? DEFAULT_NATS_URL : DEFAULT_REDIS)).join(' / ')}`;
  return [
    `cannot run the dev service: ${missing.join(' and ')} not found on PATH${where}.`,
    'Either install them:',
    '  Debian/Ubuntu:  sudo apt-get install nats-server redis-server',
    '  macOS:          brew install nats-server redis',
    '  or see https://docs.nats.io/running-a-nats-service/introduction/installation and https://redis.io/docs/latest/operate/oss_and_stack/install/',
    'or start throwaway ones with Docker (docker-compose.yml is for deployments: its NATS requires logins):',
    '  docker run -d --rm -p 127.0.0.1:4222:4222 nats:2.11-alpine -js',
    '  docker run -d --rm -p 127.0.0.1:6379:6379 redis:7.4-alpine --appendonly yes',
    'then run this command again.',
  ].join('\n');
}

/** A path relative to the working directory when it is below it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function banner(state: DevState, nats: Endpoint, redis: Endpoint, prefix: string): string {
  const expiry = new Date(state.credentialExpires * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const keys = state.created.length ? `created in ${shown(state.dir)}/` : `reused from ${shown(state.dir)}/`;
  return `
secret-svc dev is running. Ctrl-C stops it${nats.own || redis.own ? ' and the servers it started' : ''}.
  NATS   ${nats.url}${nats.own ? ' (nats-server started here)' : ''}
  Redis  ${redis.url}${redis.own ? ` (redis-server started here, data in ${shown(state.redisDir)}/)` : ''}, key prefix ${prefix}
  keys   ${keys}: issuer (public key ${state.issuer.x}), admin key + credential, encryption key, service key (signs session handshakes; pinned below)
  admin credential valid until ${expiry}${state.credentialRenewed ? ' (renewed now)' : ''}; each start renews it when under ${DEV_CREDENTIAL_RENEW_BELOW_SECONDS / 86_400} days are left

In another terminal, in this directory:

export NATS_URL=${nats.url}
export SECRET_SVC_CREDENTIAL_FILE=${state.credentialFile}
export SECRET_SVC_KEY_FILE=${state.adminKeyFile}
export SECRET_SVC_SERVICE_PUBLIC_KEY=${state.servicePublicKey}

${CLI} whoami
echo 'hello, world' | ${CLI} set demo/GREETING
${CLI} get demo/GREETING
nats req secret.read "$(${CLI} sign read '{"key":"demo/GREETING"}')"

(The first \`${CLI}\` in a fresh clone takes a while: npm links this package into its npx cache
and builds it once. nats is the NATS CLI, https://github.com/nats-io/natscli;
\`nats req secret.whoami "$(${CLI} sign whoami)"\` works too.)
`;
}
