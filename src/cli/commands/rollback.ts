/**
 * `secret-svc rollback KEY N`: writes version N's value as a new version (docs/protocol.md §9),
 * guarded by the current version: if another write lands in between, 409 and nothing changes.
 */
import type { Command } from 'commander';
import { withClient } from '../lib/client-config.js';
import { out } from '../lib/io.js';
import { versionNumber } from '../lib/version-number.js';

export function register(program: Command): void {
  program
    .command('rollback')
    .summary("write an old version's value as a new version")
    .description("write the value of KEY's version N as a new version (the lists stay as they are now); refused " +
      'with 409 (exit 6) if the secret changed while this ran. The audit trail records it as an update with ' +
      '"rollbackOf": N')
    .argument('<key>', 'the secret key')
    .argument('<n>', 'the kept version whose value to restore (see `secret-svc versions KEY`)')
    .option('--json', 'print the resulting metadata as JSON')
    .action(async (key: string, n: string, o: { json?: boolean }, cmd: Command) => {
      const version = versionNumber(n, 'N');
      const meta = await withClient(cmd, async (c) => {
        const current = (await c.versions(key)).versions[0]!.version;
        const old = await c.read(key, { version });
        return c.update(key, { value: old.value, ifVersion: current, rollbackOf: version });
      });
      out(o.json ? `${JSON.stringify(meta, null, 2)}\n` : `rolled back ${meta.key} to the value of version ${version}: now version ${meta.version}\n`);
    });
}
