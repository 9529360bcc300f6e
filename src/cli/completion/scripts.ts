/**
 * The completion scripts, generated from commandSpecs(): bash (a walk over the words typed, then
 * a table lookup), zsh (the same function through zsh's bashcompinit) and fish (its own
 * `complete` lines). Key names come from `secret-svc __complete-keys PREFIX`, which prints
 * nothing without a configured credential.
 */
import type { NodeSpec, ValueSpec } from './spec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const KEYS_CALL = 'secret-svc --timeout 2000 __complete-keys';
const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A value spec as the bash table holds it: w:WORDS, k (keys), f (files), c (commands), n (nothing). */
function code(v: ValueSpec): string {
  if (typeof v === 'object') return `w:${v.words.join(' ')}`;
  return { keys: 'k', files: 'f', command: 'c', none: 'n' }[v];
}

function bash(specs: NodeSpec[]): string {
  const nodes = specs.map((s) => {
    const valued = s.flags.filter((f) => f.value).flatMap((f) => f.names);
    return `    ${sq(s.path.join(' '))}) subs=${sq(s.subcommands.join(' '))}; flags=${sq(s.flags.flatMap((f) => f.names).join(' '))}; valued=${sq(` ${valued.join(' ')} `)} ;;`;
  });
  const values: string[] = [];
  for (const s of specs) {
    const at = s.path.join(' ');
    for (const f of s.flags) if (f.value && f.value !== 'none') for (const n of f.names) values.push(`    ${sq(`${at}|${n}`)}) echo ${sq(code(f.value))} ;;`);
    s.args.forEach((a, i) => { if (a !== 'none') values.push(`    ${sq(`${at}|#${i}`)}) echo ${sq(code(a))} ;;`); });
    // Past the last argument of a variadic: more of the same (files after run's command).
    const last = s.args[s.args.length - 1];
    if (s.variadic && last) values.push(`    ${sq(`${at}|#*`)}) echo ${sq(code(last === 'command' ? 'files' : last))} ;;`);
  }
  return `_secret_svc_node() {
  case "$1" in
${nodes.join('\n')}
    *) subs=''; flags='--help'; valued=' ' ;;
  esac
}
_secret_svc_value() {
  case "$1" in
${values.join('\n')}
    *) echo n ;;
  esac
}
_secret_svc() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cpath='' n=0 i w dd=0 want='' spec subs flags valued gvalued
  _secret_svc_node ''
  gvalued="$valued"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((dd == 0)) && [[ "$w" == -* ]]; then
      if [[ "$w" == -- ]]; then dd=1; continue; fi
      if [[ "$valued" == *" $w "* || "$gvalued" == *" $w "* ]]; then
        if ((i + 1 == COMP_CWORD)); then want="$w"; fi
        i=$((i + 1))
      fi
      continue
    fi
    if ((n == 0 && dd == 0)) && [[ -n "$subs" && " $subs " == *" $w "* ]]; then
      cpath="\${cpath:+$cpath }$w"
      _secret_svc_node "$cpath"
      continue
    fi
    n=$((n + 1))
  done
  COMPREPLY=()
  if [[ -n "$want" ]]; then
    spec="$(_secret_svc_value "$cpath|$want")"
    [[ "$spec" == n ]] && spec="$(_secret_svc_value "|$want")"
  elif ((dd == 0)) && [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  elif ((n == 0)) && [[ -n "$subs" ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
    return 0
  else
    spec="$(_secret_svc_value "$cpath|#$n")"
    [[ "$spec" == n ]] && spec="$(_secret_svc_value "$cpath|#*")"
  fi
  case "$spec" in
    w:*) COMPREPLY=($(compgen -W "\${spec#w:}" -- "$cur")) ;;
    k) COMPREPLY=($(compgen -W "$(${KEYS_CALL} "$cur" 2>/dev/null)" -- "$cur")) ;;
    f) COMPREPLY=($(compgen -f -- "$cur")); type compopt >/dev/null 2>&1 && compopt -o filenames ;;
    c) COMPREPLY=($(compgen -c -- "$cur")) ;;
  esac
  return 0
}
complete -F _secret_svc secret-svc
`;
}

function fish(specs: NodeSpec[]): string {
  const lines = ['complete -c secret-svc -f',
    `function __secret_svc_keys; ${KEYS_CALL} (commandline -ct) 2>/dev/null; end`];
  const value = (v: ValueSpec): string => {
    if (typeof v === 'object') return `-a ${sq(v.words.join(' '))}`;
    return { keys: "-a '(__secret_svc_keys)'", files: '-F', command: "-a '(__fish_complete_command)'", none: '' }[v];
  };
  for (const s of specs) {
    // Under this command: every word of its path seen, and none of its subcommands yet.
    const here = [
      ...(s.path.length === 0 ? ['__fish_use_subcommand'] : s.path.map((w) => `__fish_seen_subcommand_from ${w}`)),
      ...(s.path.length > 0 && s.subcommands.length ? [`not __fish_seen_subcommand_from ${s.subcommands.join(' ')}`] : []),
    ].join('; and ');
    const n = `-n ${sq(here)}`;
    for (const sub of specs.filter((c) => c.path.length === s.path.length + 1 && s.path.every((w, i) => c.path[i] === w))) {
      lines.push(`complete -c secret-svc ${n} -a ${sq(sub.path[sub.path.length - 1]!)} -d ${sq(sub.summary)}`);
    }
    for (const f of s.flags) {
      const long = f.names.find((x) => x.startsWith('--'));
      const short = f.names.find((x) => /^-[^-]$/.test(x));
      const names = [long ? `-l ${long.slice(2)}` : '', short ? `-s ${short.slice(1)}` : ''].filter(Boolean).join(' ');
      const takes = f.value ? [f.value === 'files' ? '-r' : '-x', value(f.value)].filter(Boolean).join(' ') : '';
      lines.push(`complete -c secret-svc ${n} ${names} ${takes} -d ${sq(f.description)}`.replace(/ +/g, ' '));
    }
    for (const a of new Set(s.args.map((a) => value(a)).filter(Boolean))) lines.push(`complete -c secret-svc ${n} ${a}`);
  }
  return `${lines.join('\n')}\n`;
}

const USAGE: Record<Shell, string> = {
  bash: '# secret-svc bash completion: eval "$(secret-svc completion bash)" (e.g. in ~/.bashrc)',
  zsh: '#compdef secret-svc\n# secret-svc zsh completion: eval "$(secret-svc completion zsh)" in ~/.zshrc, after compinit',
  fish: '# secret-svc fish completion: secret-svc completion fish > ~/.config/fish/completions/secret-svc.fish',
};

export function completionScript(shell: Shell, specs: NodeSpec[]): string {
  // zsh runs the bash function through its own bash emulation (one walk, one table, for both).
  const body = shell === 'fish' ? fish(specs)
    : shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bash(specs)}` : bash(specs);
  return `${USAGE[shell]}\n${body}`;
}
