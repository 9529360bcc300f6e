/** `secret-svc issue`: signs a credential binding a public key to a slug. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { issueCredential, isPublicKeyText, parsePrivateJwk, publicKeyProblem, privateKeyObject, SLUG_RE, type PrivateJwk } from '@secret-svc/protocol';
import { parseDuration } from '../duration.js';
import { UsageError } from '../exit.js';
import { out, writePrivateFile } from '../io.js';

interface IssueFlags {
  issuerKey: string;
  slug: string;
  publicKey?: string;
  key?: string;
  admin?: boolean;
  ttl?: string;
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

export function register(program: Command): void {
  program
    .command('issue')
    .summary('sign a credential for a public key and a slug')
    .description('print a credential saying "the holder of this public key is SLUG", signed by an issuer key')
    .requiredOption('--issuer-key <file>', "the issuer's private JWK (its public key must be in the workers' SECRET_SVC_ISSUERS)")
    .requiredOption('--slug <slug>', 'the user or service the credential names')
    .option('--public-key <x>', "the holder's public key (base64url, as printed by keygen)")
    .option('--key <file>', "the holder's JWK file (its public part is used)")
    .option('--admin', 'make the holder an administrator')
    .option('--ttl <duration>', 'expire after this long (e.g. 3600, 90m, 12h, 30d); default: no expiry')
    .option('-o, --out <file>', 'write the credential to this file (mode 0600) instead of stdout')
    .option('-f, --force', 'replace an existing --out file')
    .action((o: IssueFlags) => {
      if ((o.publicKey === undefined) === (o.key === undefined)) throw new UsageError('give exactly one of --public-key and --key');
      if (!SLUG_RE.test(o.slug)) throw new UsageError(`invalid slug "${o.slug}" (lowercase letters, digits and inner hyphens, at most 64)`);
      const subjectKey = o.publicKey ?? readJwkFile(o.key!).x;
      if (!isPublicKeyText(subjectKey)) throw new UsageError(`the holder's public key ${publicKeyProblem(subjectKey)}`);
      const issuer = readJwkFile(o.issuerKey);
      let issuerKey;
      try {
        issuerKey = privateKeyObject(issuer);
      } catch (err) {
        throw new UsageError(`${o.issuerKey}: ${(err as Error).message}`);
      }
      const credential = issueCredential({
        issuerKey, issuer: issuer.x, slug: o.slug, subjectKey, admin: o.admin,
        ttlSeconds: o.ttl === undefined ? undefined : parseDuration(o.ttl),
      });
      if (o.out) writePrivateFile(o.out, `${credential}\n`, o.force);
      else out(`${credential}\n`);
    });
}
