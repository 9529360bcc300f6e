/** `secret-svc unrevoke …` (the flags of revoke): remove exactly that revocation. */
import type { Command } from 'commander';
import { withClient } from '../lib/client-config.js';
import { out } from '../lib/io.js';
import { addSelectorOptions, describeSelector, selectorFrom, type SelectorFlags } from '../lib/revocation-flags.js';

export function register(program: Command): void {
  addSelectorOptions(
    program
      .command('unrevoke')
      .summary('lift a revocation (administrators)')
      .description('remove the revocation with exactly these flags and values (404, exit 3, when there is none)'),
  ).action(async (o: SelectorFlags, cmd: Command) => {
    const selector = selectorFrom(o);
    const r = await withClient(cmd, (c) => c.unrevoke(selector));
    out(`unrevoked ${describeSelector(r.unrevoked)}\n`);
  });
}
