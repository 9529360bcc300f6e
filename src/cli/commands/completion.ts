/**
 * `secret-svc completion bash|zsh|fish`: a completion script made from the command tree
 * (src/cli/completion/): commands, subcommands, flags, enumerated values, and key names for
 * every key argument through `secret-svc __complete-keys`, which lists them only when a
 * credential is configured (and prints nothing otherwise).
 */
import { Argument, type Command } from 'commander';
import { listKeys } from '../lib/batch-read.js';
import { completionScript, SHELLS, type Shell } from '../completion/scripts.js';
import { commandSpecs } from '../completion/spec.js';
import { hasIdentity, withClient } from '../lib/client-config.js';
import { out } from '../lib/io.js';

export function register(program: Command): void {
  program
    .command('completion')
    .summary('print a shell completion script (bash, zsh or fish)')
    .description('print a completion script for SHELL: commands, subcommands, flags, enumerated values (formats, ' +
      'shells, ops…), and for every key argument the key names `ls` shows (when a credential is configured). bash: ' +
      'eval "$(secret-svc completion bash)" in ~/.bashrc; zsh: the same with zsh, after compinit; fish: ' +
      'secret-svc completion fish > ~/.config/fish/completions/secret-svc.fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: Shell) => {
      out(completionScript(shell, commandSpecs(program)));
    });

  program
    .command('__complete-keys', { hidden: true })
    .argument('[prefix]', 'only keys starting with this', '')
    .action(async (prefix: string, _o: unknown, cmd: Command) => {
      if (!hasIdentity(cmd)) return;
      // Errors go to stderr, which the completion scripts discard: never into the command line.
      const keys = await withClient(cmd, (c) => listKeys(c, prefix));
      out(keys.map((k) => `${k}\n`).join(''));
    });
}
