/** `secret-svc keygen`: a new Ed25519 key as a JWK. */
import type { Command } from 'commander';
import { generateJwk } from '@secret-svc/protocol';
import { out, warn, writePrivateFile } from '../lib/io.js';

export function register(program: Command): void {
  program
    .command('keygen')
    .summary('create an Ed25519 key (JWK)')
    .description('create an Ed25519 key; with --out, write it as a JWK file (mode 0600) and print the public key; ' +
      'without --out, print the JWK on stdout and the public key on stderr. The same key type serves as the service key: ' +
      'point SECRET_SVC_SERVICE_KEY at the --out file on every worker and give callers its public key as ' +
      'SECRET_SVC_SERVICE_PUBLIC_KEY (they then accept only session handshakes it signed)')
    .option('-o, --out <file>', 'write the private JWK to this file (mode 0600)')
    .option('-f, --force', 'replace an existing --out file')
    .action((o: { out?: string; force?: boolean }) => {
      const jwk = generateJwk();
      const text = `${JSON.stringify(jwk)}\n`;
      if (o.out) {
        writePrivateFile(o.out, text, o.force);
        out(`${jwk.x}\n`);
      } else {
        out(text);
        warn(`public key: ${jwk.x}\n`);
      }
    });
}
