/** The `secret-svc dev` sequence: files, servers, worker, instructions, clean stop. */
import { writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { DEFAULT_NATS_URL } from '@secret-svc/protocol';
import { ConfigError, loadConfig } from '../../config.js';
import { keyIdOf } from '../../keyring-source.js';
import { createLogger } from '../../log.js';
import { watchParent } from '../../parent-watch.js';
import { WrongKeyError } from '../../store/canary.js';
import { startWorker, type Worker } from '../../worker.js';
import { DEFAULT_DEV_DIR, type DevFlags } from '../commands/dev.js';
import { formatShellLine } from '../lib/dotenv.js';
import { CliError, EXIT, UsageError } from '../lib/exit-codes.js';
import { streams } from '../lib/streams.js';
import { devKeyring, type DevKeyring } from './keyring.js';
import { ChildServer, DEV_REDIS_MEMORY, natsAnswers, pickPort, redisAnswers, serviceAnswers, servesThisIssuer, startDevNats, which } from './servers.js';
import { DEV_CREDENTIAL_RENEW_BELOW_SECONDS, devState, readPorts, writePorts, type DevState } from './state.js';

const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
/** How the printed examples call the CLI (works in the project directory after `npm ci`). */
export const CLI = 'npx secret-svc';

interface Endpoint {
  url: string;
  /** Set when dev started the server itself. */
  own?: ChildServer;
}

export async function runDevSequence(o: DevFlags, natsUrlFlag?: string): Promise<void> {
  const state = devState(o.dir);
  const saved = readPorts(state);
  const started: ChildServer[] = [];
  const stopServers = async () => { await Promise.all(started.map((s) => s.stop())); };
  process.on('exit', () => started.forEach((s) => s.kill()));

  let nats: Endpoint | undefined;
  let redis: Endpoint | undefined;
  const missing: string[] = [];
  /** Workers of this dev service (its second workers) already serve on that NATS. */
  let joining = false;
  try {
    nats = await resolveServer(NATS, natsUrlFlag, o.startServers, saved.nats, state, started);
    redis = await resolveServer(REDIS, o.redisUrl, o.startServers, saved.redis, state, started);
    if (!nats) missing.push('nats-server');
    if (!redis) missing.push('redis-server');
    if (missing.length) throw new CliError(installHelp(missing, o.startServers), EXIT.unavailable);
    writePorts(state, {
      ...(nats!.own ? { nats: Number(new URL(nats!.url).port) } : {}),
      ...(redis!.own ? { redis: Number(new URL(redis!.url).port) } : {}),
    });
    joining = !nats!.own && (await serviceAnswers(nats!.url, 'secret-svc'));
    if (joining && !(await servesThisIssuer(nats!.url, state.credentialFile, state.adminKeyFile))) {
      const other = natsUrlFlag ? 'give another --nats-url' : 'run `secret-svc dev --start-servers` to use servers of its own';
      throw new CliError(
        `a secret-svc worker that does not trust this dev issuer already answers on ${nats!.url} (another \`secret-svc dev\`, or the docker compose worker?): ` +
          `stop it first, or ${other}`, EXIT.conflict);
    }
  } catch (err) {
    await stopServers();
    throw err;
  }

  const keyring = devKeyring(state, streams().env, shown);
  // What this worker runs with, and what a second worker or `keys …` needs (--print-worker-env).
  const workerEnv: Record<string, string> = {
    NATS_URL: nats!.url,
    REDIS_URL: redis!.url,
    SECRET_SVC_ISSUERS: state.issuer.x,
    [keyring.variable]: keyring.value,
    SECRET_SVC_SERVICE_KEY: state.serviceKeyFile,
    SECRET_SVC_REDIS_PREFIX: o.redisPrefix,
  };
  let config;
  try {
    config = loadConfig({ ...workerEnv, LOG_LEVEL: o.logLevel });
  } catch (err) {
    await stopServers();
    if (err instanceof ConfigError) throw new UsageError(`${err.message} (the keyring: ${keyring.source})`);
    throw err;
  }
  // Logs on stderr, so stdout carries only the instructions below.
  const log = createLogger(config.logLevel, 'stderr');
  let worker: Worker;
  try {
    worker = await startWorker(config, log);
  } catch (err) {
    await stopServers();
    if (err instanceof WrongKeyError) throw new CliError(`${err.message}\n${wrongKeyHint(o, state, redis!, keyring)}`, EXIT.other);
    throw err;
  }
  writeFileSync(state.workerEnvFile, workerEnvText(workerEnv, o.dir), { mode: 0o600 });

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
  // `npm run dev` killed without passing the signal on: stop too, instead of serving as an orphan.
  watchParent(() => void stop('parent exited'));

  process.stdout.write(banner(state, nats!, redis!, joining, o.redisPrefix, keyring, config.encryptionKeys, o.dir === DEFAULT_DEV_DIR ? '' : ` --dir ${o.dir}`));
}

/** What dev needs to know of a server it uses or starts. */
interface DevServerKind {
  name: string;
  bin: string;
  defaultUrl: string;
  scheme: string;
  answers(url: string): Promise<boolean>;
  start(bin: string, port: number, state: DevState, url: string): Promise<ChildServer>;
}

const NATS: DevServerKind = {
  name: 'NATS', bin: 'nats-server', defaultUrl: DEFAULT_NATS_URL, scheme: 'nats', answers: natsAnswers,
  start: (bin, port, state) => startDevNats(bin, port, state.dir),
};

const REDIS: DevServerKind = {
  name: 'Redis', bin: 'redis-server', defaultUrl: DEFAULT_REDIS, scheme: 'redis', answers: redisAnswers,
  // AOF in --dir: the data survives this process, and a second run finds it again.
  start: (bin, port, state, url) => ChildServer.start('redis-server', bin, [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', state.redisDir,
    '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no',
    ...DEV_REDIS_MEMORY,
  ], port, url, join(state.dir, 'redis.log')),
};

/**
 * The server to use: the one `flag` names (it must answer), else the default one when it
 * answers (not with --start-servers), else one of its own on `port` (its last one) or a free
 * port; undefined when its binary is not installed.
 */
async function resolveServer(kind: DevServerKind, flag: string | undefined, startServers: boolean | undefined, port: number | undefined, state: DevState, started: ChildServer[]): Promise<Endpoint | undefined> {
  if (flag) {
    if (!(await kind.answers(flag))) throw new CliError(`${kind.name} does not answer at ${flag}`, EXIT.unavailable);
    return { url: flag };
  }
  if (!startServers && (await kind.answers(kind.defaultUrl))) return { url: kind.defaultUrl };
  const bin = which(kind.bin);
  if (!bin) return undefined;
  const p = await pickPort(port);
  const url = `${kind.scheme}://127.0.0.1:${p}`;
  const own = await kind.start(bin, p, state, url);
  started.push(own);
  return { url, own };
}

/** What to do when the keyring cannot open the data: only suggestions that the flags given leave open. */
function wrongKeyHint(o: DevFlags, state: DevState, redis: Endpoint, keyring: DevKeyring): string {
  const lines = [`dev's keyring (${keyring.source}) cannot open the data already in ${redis.own ? shown(state.redisDir) : redis.url} ` +
    `under "${o.redisPrefix}". Give dev a keyring holding the key that sealed it (as after a key rotation): the keys one ` +
    `a line in ${shown(state.keyringFile)}, the first one sealing, or SECRET_SVC_ENCRYPTION_KEYS (…_KEYS_FILE, ` +
    '…_KEY_COMMAND) in its environment; see docs/key-rotation.md.'];
  if (!redis.own) {
    const own = o.redisUrl === undefined && !o.startServers ? ', or --start-servers for servers of its own' : '';
    lines.push(`If that Redis holds another deployment's data, use another key prefix (--redis-prefix secret-svc-dev:)${own}.`);
  }
  return lines.join('\n');
}

/** The worker environment as `export NAME='value'` lines, for `eval` or `set -a; . FILE`. */
function workerEnvText(env: Record<string, string>, dir: string): string {
  const lines = Object.entries(env).map(([name, value]) => formatShellLine(name, value));
  return `# the environment of \`secret-svc dev --dir ${dir}\`'s worker: for a second worker (npm start) and \`secret-svc keys …\`\n` +
    `${lines.join('\n')}\n`;
}

function installHelp(missing: string[], startServers: boolean | undefined): string {
  const where = startServers ? '' : ` and nothing answers on ${missing.map((m) => (m === 'nats-server' ? DEFAULT_NATS_URL : DEFAULT_REDIS)).join(' / ')}`;
  return [
    `cannot run the dev service: ${missing.join(' and ')} not found on PATH${where}.`,
    'Either install them:',
    '  Debian/Ubuntu:  sudo apt-get install nats-server redis-server',
    '  macOS:          brew install nats-server redis',
    '  or see https://docs.nats.io/running-a-nats-service/introduction/installation and https://redis.io/docs/latest/operate/oss_and_stack/install/',
    startServers
      ? 'or start throwaway ones with Docker and run this command without --start-servers, which makes dev start its ' +
        'own from PATH (docker-compose.yml is for deployments: its NATS requires logins):'
      : 'or start throwaway ones with Docker (docker-compose.yml is for deployments: its NATS requires logins):',
    '  docker run -d --rm -p 127.0.0.1:4222:4222 nats:2.11-alpine -js',
    '  docker run -d --rm -p 127.0.0.1:6379:6379 redis:7.4-alpine --appendonly yes',
    startServers ? 'then run `secret-svc dev` again.' : 'then run this command again.',
  ].join('\n');
}

/** A path relative to the working directory when it is below it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function banner(state: DevState, nats: Endpoint, redis: Endpoint, joining: boolean, prefix: string, keyring: DevKeyring, ring: Uint8Array[], dirFlag: string): string {
  const expiry = new Date(state.credentialExpires * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const keys = state.created.length ? `created in ${shown(state.dir)}/` : `reused from ${shown(state.dir)}/`;
  return `
secret-svc dev is running. Ctrl-C stops it${nats.own || redis.own ? ' and the servers it started' : ''}.
  NATS   ${nats.url}${nats.own ? ' (nats-server started here)' : ''}${joining ? ' (other workers of this dev service serve there too: this one joins them)' : ''}
  Redis  ${redis.url}${redis.own ? ` (redis-server started here, data in ${shown(state.redisDir)}/)` : ''}, key prefix ${prefix}
  keys   ${keys}: issuer (public key ${state.issuer.x}), admin key + credential, encryption key, service key (signs session handshakes; pinned below)
  keyring ${keyring.source}: key id${ring.length > 1 ? 's' : ''} ${ring.map(keyIdOf).join(', ')}${ring.length > 1 ? ' (the first seals)' : ''}
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

A second worker, or the keyring commands, need the worker's environment (kept in ${shown(state.workerEnvFile)}):
(eval "$(${CLI} dev${dirFlag} --print-worker-env)"; exec npm start)
(eval "$(${CLI} dev${dirFlag} --print-worker-env)"; ${CLI} keys status)
`;
}
