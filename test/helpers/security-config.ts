/**
 * The NATS permissions configuration printed in SECURITY.md ("NATS permissions"), read from
 * the document itself so the tests check exactly what operators are told to deploy. The
 * bcrypt placeholders become the given test passwords; TLS and the JetStream store are left
 * to the test server.
 */
import { readFileSync } from 'node:fs';

const SECURITY_MD = new URL('../../SECURITY.md', import.meta.url);

/** The `authorization { … }` block of SECURITY.md with `passwords[user]` filled in for each user. */
export function securityAuthorization(passwords: Record<string, string>): string {
  return securityBlock('# nats-server.conf\n', 'authorization {', passwords);
}

/** SECURITY.md's configuration with the audit trail in an account of its own (`accounts { … }`). */
export function securityAccounts(passwords: Record<string, string>): string {
  return securityBlock('# nats-server.conf: the audit trail in an account of its own', 'accounts {', passwords);
}

/** The braced block starting with `opening` after `marker`, with the bcrypt placeholders replaced. */
function securityBlock(marker: string, opening: string, passwords: Record<string, string>): string {
  const doc = readFileSync(SECURITY_MD, 'utf8');
  const at = doc.indexOf(marker);
  const start = at < 0 ? -1 : doc.indexOf(opening, at);
  if (start < 0) throw new Error(`SECURITY.md has no ${marker.trim()} ${opening} block`);
  let depth = 0;
  let end = start;
  for (; end < doc.length; end++) {
    if (doc[end] === '{') depth++;
    else if (doc[end] === '}' && --depth === 0) break;
  }
  const block = doc.slice(start, end + 1);
  const missing = [...block.matchAll(/user: (\S+)/g)].map((m) => m[1]!).filter((u) => passwords[u] === undefined);
  if (missing.length) throw new Error(`no test password for SECURITY.md's user(s) ${missing.join(', ')}`);
  return block.replace(/user: (\S+)\n(\s+)password: "[^"]*"[^\n]*/g, (_m, user: string, indent: string) => `user: ${user}\n${indent}password: "${passwords[user]}"`);
}
