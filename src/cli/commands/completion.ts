/**
 * `secret-svc completion bash|zsh|fish`: a completion script for commands and flags, made from
 * the command tree; for get/set/rm it asks `secret-svc __complete-keys` for key names, which
 * lists them only when a credential is configured (and prints nothing otherwise).
 */
import type { Command, Option } from 'commander';
import { listKeys } from '../batch.js';
import { hasIdentity, withClient } from '../context.js';
import { UsageError } from '../exit.js';
import { out } from '../io.js';

const KEY_COMMANDS = ['get', 'set', 'rm'];
const SHELLS = ['bash', 'zsh', 'fish'] as const;

interface Tree {
  globals: Option[];
  commands: Array<{ name: string; summary: string; flags: Option[] }>;
}

function tree(program: Command): Tree {
  return {
    globals: program.options as Option[],
    commands: program.commands
      .filter((c) => !c.name().startsWith('__'))
      .map((c) => ({ name: c.name(), summary: c.summary() || c.description(), flags: c.options as Option[] })),
  };
}

const flagWords = (opts: Option[]) => opts.flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
const takesValue = (opts: Option[]) => opts.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter(Boolean));
const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

function bash(t: Tree): string {
  const cases = t.commands.map((c) => `    ${c.name}) flags=${sq(['--help', ...flagWords(c.flags)].join(' '))} ;;`).join('\n');
  return `# secret-svc bash completion: eval "$(secret-svc completion bash)" (e.g. in ~/.bashrc)
_secret_svc() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" i skip=0 flags
  for ((i = 1; i < COMP_CWORD; i++)); do
    local w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      ${takesValue(t.globals).join('|')}) skip=1 ;;
      -*) ;;
      *) cmd="$w"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then
      COMPREPLY=($(compgen -W ${sq(['--help', ...flagWords(t.globals)].join(' '))} -- "$cur"))
    else
      COMPREPLY=($(compgen -W ${sq(t.commands.map((c) => c.name).join(' '))} -- "$cur"))
    fi
    return
  fi
  case "$cmd" in
${cases}
    *) flags='--help' ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ " ${KEY_COMMANDS.join(' ')} " == *" $cmd "* ]]; then
    COMPREPLY=($(compgen -W "$(secret-svc --timeout 2000 __complete-keys "$cur" 2>/dev/null)" -- "$cur"))
  fi
}
complete -o default -F _secret_svc secret-svc
`;
}

function zsh(t: Tree): string {
  const described = t.commands.map((c) => sq(`${c.name}:${c.summary.replace(/:/g, '\\:')}`)).join(' ');
  const cases = t.commands.map((c) => `    ${c.name}) flags=(${['--help', ...flagWords(c.flags)].join(' ')}) ;;`).join('\n');
  return `#compdef secret-svc
# secret-svc zsh completion: eval "$(secret-svc completion zsh)" (after compinit), or save as _secret-svc in $fpath
_secret_svc() {
  local cmd="" i skip=0
  local -a flags keys commands
  for ((i = 2; i < CURRENT; i++)); do
    if ((skip)); then skip=0; continue; fi
    case "\${words[i]}" in
      ${takesValue(t.globals).join('|')}) skip=1 ;;
      -*) ;;
      *) cmd="\${words[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "$PREFIX" == -* ]]; then compadd -- --help ${flagWords(t.globals).join(' ')}; return; fi
    commands=(${described})
    _describe 'command' commands
    return
  fi
  case "$cmd" in
${cases}
    *) flags=(--help) ;;
  esac
  if [[ "$PREFIX" == -* ]]; then compadd -a flags; return; fi
  case "$cmd" in
    ${KEY_COMMANDS.join('|')}) keys=(\${(f)"$(secret-svc --timeout 2000 __complete-keys "$PREFIX" 2>/dev/null)"}); compadd -a keys ;;
    *) _files ;;
  esac
}
compdef _secret_svc secret-svc
`;
}

function fish(t: Tree): string {
  const lines = ['# secret-svc fish completion: secret-svc completion fish > ~/.config/fish/completions/secret-svc.fish',
    'complete -c secret-svc -f'];
  const flag = (o: Option) => [o.long ? `-l ${o.long.slice(2)}` : '', o.short ? `-s ${o.short.slice(1)}` : '', o.required || o.optional ? '-r' : '', `-d ${sq(o.description)}`].filter(Boolean).join(' ');
  for (const o of t.globals) lines.push(`complete -c secret-svc -n __fish_use_subcommand ${flag(o)}`);
  for (const c of t.commands) {
    lines.push(`complete -c secret-svc -n __fish_use_subcommand -a ${c.name} -d ${sq(c.summary)}`);
    for (const o of c.flags) lines.push(`complete -c secret-svc -n '__fish_seen_subcommand_from ${c.name}' ${flag(o)}`);
  }
  lines.push(`complete -c secret-svc -n '__fish_seen_subcommand_from ${KEY_COMMANDS.join(' ')}' -a '(secret-svc --timeout 2000 __complete-keys (commandline -ct) 2>/dev/null)'`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('completion')
    .summary('print a shell completion script (bash, zsh or fish)')
    .description('print a completion script for SHELL: commands, flags, and for get/set/rm the key names `ls` shows ' +
      '(when a credential is configured). bash: eval "$(secret-svc completion bash)" in ~/.bashrc; zsh: the same with ' +
      'zsh after compinit; fish: secret-svc completion fish > ~/.config/fish/completions/secret-svc.fish')
    .argument('<shell>', SHELLS.join(', '))
    .action((shell: string) => {
      if (!SHELLS.includes(shell as (typeof SHELLS)[number])) throw new UsageError(`shell must be one of ${SHELLS.join(', ')}`);
      const t = tree(program);
      out(shell === 'bash' ? bash(t) : shell === 'zsh' ? zsh(t) : fish(t));
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
