/** `secret-svc revoke --key-id K | --jti J | --slug S --issued-before WHEN`: refuse matching credentials. */
import type { Command } from 'commander';
import { withClient } from '../lib/client-config.js';
import { out } from '../lib/io.js';
import { addSelectorOptions, describeSelector, selectorFrom, type SelectorFlags } from '../lib/revocation-flags.js';

export function register(program: Command): void {
  addSelectorOptions(
    program
      .command('revoke')
      .summary('revoke credentials (administrators)')
      .description('every worker refuses the matching credentials within a second (401); revoking an existing entry again shows its original time and administrator'),
  ).action(async (o: SelectorFlags, cmd: Command) => {
    const selector = selectorFrom(o);
    const r = await withClient(cmd, (c) => c.revoke(selector));
    out(`revoked ${describeSelector(r.revoked)} at ${r.at} by ${r.by}\n`);
  });
}
