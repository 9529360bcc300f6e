/**
 * The dev service's files under one directory (default .secret-svc/, gitignored): created on the
 * first run with mode 0600, reused afterwards so a second run has the same keys and data.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateJwk, issueCredential, tryParseCredential, parsePrivateJwk, privateKeyObject, type PrivateJwk } from '@secret-svc/protocol';
import { newJti } from '../lib/credential-lifetime.js';
import { CliError, EXIT } from '../lib/exit-codes.js';

export const DEV_ADMIN_SLUG = 'admin';
/** The dev admin credential lives this long, and is renewed on start when less than RENEW_BELOW is left. */
export const DEV_CREDENTIAL_TTL_SECONDS = 30 * 86_400;
export const DEV_CREDENTIAL_RENEW_BELOW_SECONDS = 7 * 86_400;

export interface DevState {
  dir: string;
  issuerPublicFile: string;
  adminKeyFile: string;
  credentialFile: string;
  encryptionKeyFile: string;
  /** A keyring file (one key a line, the first seals) that replaces encryption.key when it exists. */
  keyringFile: string;
  /** The environment a second worker or `keys …` needs, written by each start (`dev --print-worker-env`). */
  workerEnvFile: string;
  /** SECRET_SVC_SERVICE_KEY: signs session handshakes (docs/protocol.md §12); callers pin its public key. */
  serviceKeyFile: string;
  servicePublicKey: string;
  redisDir: string;
  portsFile: string;
  issuer: PrivateJwk;
  /** Files written by this run (empty on a reuse; a renewed credential is not counted). */
  created: string[];
  /** The admin credential's expiry (epoch seconds) and whether this start renewed it. */
  credentialExpires: number;
  credentialRenewed: boolean;
}

export function devState(dirOption: string, nowMs = Date.now()): DevState {
  const dir = resolve(dirOption);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  const file = (name: string) => join(dir, name);
  const ensure = (path: string, make: () => string): string => {
    if (!existsSync(path)) {
      writeFileSync(path, make(), { mode: 0o600, flag: 'wx' });
      created.push(path);
    }
    return readFileSync(path, 'utf8');
  };
  const jwkFile = (path: string): PrivateJwk => {
    const text = ensure(path, () => `${JSON.stringify(generateJwk())}\n`);
    try {
      return parsePrivateJwk(JSON.parse(text));
    } catch (err) {
      throw new CliError(`${path} is not a usable key (${(err as Error).message}); delete it to start over`, EXIT.other);
    }
  };

  const issuer = jwkFile(file('issuer.jwk'));
  const admin = jwkFile(file('admin.jwk'));
  const service = jwkFile(file('service.jwk'));
  ensure(file('encryption.key'), () => `${randomBytes(32).toString('base64')}\n`);
  const issuerPublicFile = file('issuer.pub');
  writeIfChanged(issuerPublicFile, `${issuer.x}\n`, created);

  const credentialFile = file('admin.cred');
  const adminCred = adminCredential(credentialFile, issuer, admin, nowMs);
  if (adminCred.written === 'issued') created.push(credentialFile);
  const redisDir = file('redis');
  mkdirSync(redisDir, { recursive: true, mode: 0o700 });
  return {
    dir, issuer, created, credentialFile, redisDir,
    credentialExpires: adminCred.exp,
    credentialRenewed: adminCred.written === 'renewed',
    issuerPublicFile,
    adminKeyFile: file('admin.jwk'),
    encryptionKeyFile: file('encryption.key'),
    keyringFile: file('encryption.keys'),
    workerEnvFile: workerEnvFile(dir),
    serviceKeyFile: file('service.jwk'),
    servicePublicKey: service.x,
    portsFile: file('ports.json'),
  };
}

/**
 * The admin credential is (re)issued when it is missing, no longer matches the two keys, never
 * expires (made before dev credentials expired), or has less than a week left.
 */
function adminCredential(path: string, issuer: PrivateJwk, admin: PrivateJwk, nowMs: number): { exp: number; written?: 'issued' | 'renewed' } {
  const current = existsSync(path) ? tryParseCredential(readFileSync(path, 'utf8').trim()) : undefined;
  const matches = current !== undefined && current.claims.iss === issuer.x && current.claims.cnf.jwk.x === admin.x && current.claims.admin === true;
  const exp = current?.claims.exp;
  if (matches && exp !== undefined && exp - nowMs / 1000 >= DEV_CREDENTIAL_RENEW_BELOW_SECONDS) return { exp };
  const credential = issueCredential({
    issuerKey: privateKeyObject(issuer), issuer: issuer.x, slug: DEV_ADMIN_SLUG, subjectKey: admin.x, admin: true,
    ttlSeconds: DEV_CREDENTIAL_TTL_SECONDS, jti: newJti(), now: nowMs,
  });
  writeFileSync(path, `${credential}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { exp: Math.floor(nowMs / 1000) + DEV_CREDENTIAL_TTL_SECONDS, written: matches ? 'renewed' : 'issued' };
}

function writeIfChanged(path: string, text: string, created: string[]): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
  created.push(path);
}

/** Ports of the servers the last run started, so exported NATS_URLs keep working when they are free. */
export function readPorts(state: DevState): { nats?: number; redis?: number } {
  try {
    const p = JSON.parse(readFileSync(state.portsFile, 'utf8')) as { nats?: unknown; redis?: unknown };
    return {
      ...(typeof p.nats === 'number' ? { nats: p.nats } : {}),
      ...(typeof p.redis === 'number' ? { redis: p.redis } : {}),
    };
  } catch {
    return {};
  }
}

export function writePorts(state: DevState, ports: { nats?: number; redis?: number }): void {
  writeFileSync(state.portsFile, `${JSON.stringify({ ...readPorts(state), ...ports })}\n`, { mode: 0o600 });
}

/** Where a start of dev with `--dir` writes its worker environment. */
export function workerEnvFile(dirOption: string): string {
  return join(resolve(dirOption), 'worker.env');
}
