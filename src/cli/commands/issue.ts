/** `secret-svc issue`: signs a credential binding a public key to a slug (with a jti, expiring by default). */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  issueCredential, isPublicKeyText, parseCredential, parsePrivateJwk, privateKeyObject, publicKeyProblem, SLUG_RE, type PrivateJwk,
} from '@secret-svc/protocol';
import { DEFAULT_ISSUE_TTL_SECONDS, describeExpiry, newJti } from '../lib/credential-lifetime.js';
import { parseDuration } from '../lib/duration.js';
import { UsageError } from '../lib/exit-codes.js';
import { out, warn, writePrivateFile } from '../lib/io.js';

interface IssueFlags {
  issuerKey: string;
  slug: string;
  publicKey?: string;
  key?: string;
  admin?: boolean;
  ttl?: string;
  /** false with --no-expiry. */
  expiry: boolean;
  out?: string;
  force?: boolean;
}

export function readJwkFile(file: string): PrivateJwk {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parsePrivateJwk(JSON.parse(text));
  } catch (err) {
    throw new UsageError(`${file}: ${err instanceof SyntaxError ? 'not JSON' : (err as Error).message}`);
  }
}

/** Seconds until expiry, or undefined for none; --ttl and --no-expiry contradict each other. */
function ttlOf(o: IssueFlags): number | undefined {
  if (!o.expiry && o.ttl !== undefined) throw new UsageError('give either --ttl or --no-expiry, not both');
  if (!o.expiry) return undefined;
  return o.ttl === undefined ? DEFAULT_ISSUE_TTL_SECONDS : parseDuration(o.ttl);
}

export function register(program: Command): void {
  program
    .command('issue')
    .summary('sign a credential for a public key and a slug')
    .description('print a credential saying "the holder of this public key is SLUG", signed by an issuer key; ' +
      'it carries iat and a random jti (to revoke it by), and expires after 90 days unless --ttl or --no-expiry says otherwise. ' +
      'The jti and expiry are printed on stderr; stdout (or --out) gets the credential alone.')
    .requiredOption('--issuer-key <file>', "the issuer's private JWK (its public key must be in the workers' SECRET_SVC_ISSUERS)")
    .requiredOption('--slug <slug>', 'the user or service the credential names')
    .option('--public-key <x>', "the holder's public key (base64url, as printed by keygen)")
    .option('--key <file>', "the holder's JWK file (its public part is used)")
    .option('--admin', 'make the holder an administrator')
    .option('--ttl <duration>', 'expire after this long (e.g. 3600, 90m, 12h, 30d, 2w); default 90d')
    .option('--no-expiry', 'a credential that never expires (revoke it to stop it)')
    .option('-o, --out <file>', 'write the credential to this file (mode 0600) instead of stdout')
    .option('-f, --force', 'replace an existing --out file')
    .action((o: IssueFlags) => {
      if ((o.publicKey === undefined) === (o.key === undefined)) throw new UsageError('give exactly one of --public-key and --key');
      if (!SLUG_RE.test(o.slug)) throw new UsageError(`invalid slug "${o.slug}" (lowercase letters, digits and inner hyphens, at most 64)`);
      const ttlSeconds = ttlOf(o);
      const subjectKey = o.publicKey ?? readJwkFile(o.key!).x;
      if (!isPublicKeyText(subjectKey)) throw new UsageError(`the holder's public key ${publicKeyProblem(subjectKey)}`);
      const issuer = readJwkFile(o.issuerKey);
      let issuerKey;
      try {
        issuerKey = privateKeyObject(issuer);
      } catch (err) {
        throw new UsageError(`${o.issuerKey}: ${(err as Error).message}`);
      }
      const now = Date.now();
      const jti = newJti();
      const credential = issueCredential({
        issuerKey, issuer: issuer.x, slug: o.slug, subjectKey, admin: o.admin, ttlSeconds, jti, now,
      });
      // What is printed is read back from the credential itself.
      const exp = parseCredential(credential).claims.exp;
      if (o.out) writePrivateFile(o.out, `${credential}\n`, o.force);
      else out(`${credential}\n`);
      // Only the credential on stdout, so `issue > file` and $(issue) keep working.
      warn(`jti: ${jti}\nexpires: ${describeExpiry(exp, now)}\n`);
    });
}
