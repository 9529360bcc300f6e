/** `secret-svc versions KEY`: the kept versions of a secret, newest first (docs/protocol.md §9). */
import type { Command } from 'commander';
import type { VersionsReply } from '@secret-svc/protocol';
import { withClient } from '../lib/client-config.js';
import { out } from '../lib/io.js';

export function register(program: Command): void {
  program
    .command('versions')
    .summary("list a secret's kept versions (table or --json)")
    .description('list the kept versions of KEY, newest first: version, when and by whom it was written ' +
      '(read one with `secret-svc get KEY --version N`, restore one with `secret-svc rollback KEY N`)')
    .argument('<key>', 'the secret key')
    .option('--json', 'print {"key", "versions": [{"version", "updatedAt", "updatedBy"}…]}')
    .action(async (key: string, o: { json?: boolean }, cmd: Command) => {
      const reply = await withClient(cmd, (c) => c.versions(key));
      out(o.json ? `${JSON.stringify(reply, null, 2)}\n` : table(reply));
    });
}

function table(reply: VersionsReply): string {
  const rows = [['VERSION', 'UPDATED', 'UPDATED BY'], ...reply.versions.map((v, i) => [
    `${v.version}${i === 0 ? ' (current)' : ''}`, v.updatedAt, v.updatedBy,
  ])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return `${rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n')}\n`;
}
