/**
 * Shell completion, generated from the command tree: every command, subcommand and flag, the
 * enumerated values (formats, shells, ops, log levels) and key names for every key argument.
 * bash is driven through a real terminal (tmux: keys typed, the screen read back), zsh the same
 * way, fish through `complete -C`. They need tmux, zsh and fish on PATH (.ci/run installs them).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { commandSpecs } from '../../src/cli/completion/spec.js';
import type { Stack } from '../helpers/stack.js';
import { ROOT } from '../helpers/process.js';
import { callerEnv, tempDir, useStack } from './callers.js';
import { baseEnv, cliIn, runProgram } from './run-cli.js';

const stackOf = useStack();
let stack: Stack;
beforeEach(() => { stack = stackOf(); });

const specs = commandSpecs(buildProgram(['completion', 'bash']));
const SLOW = 240_000;

/** `secret-svc` in the shells under test: the repository's CLI through tsx. */
const CLI_FN = `"${process.execPath}" --import tsx "${ROOT}src/cli/main.ts"`;

async function scriptFile(shell: string): Promise<string> {
  const r = await cliIn(['completion', shell]);
  expect(r.code, r.stderr).toBe(0);
  const file = join(tempDir(`comp-${shell}`), `secret-svc.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

/** A shell in a tmux terminal of its own (its own server socket), keys typed, the screen read. */
class Terminal {
  private readonly sock = `secret-svc-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  constructor(shell: string[], env: Record<string, string>) {
    this.tmux(['-f', '/dev/null', 'new-session', '-d', '-x', '250', '-y', '50', ...shell], env);
  }
  private tmux(args: string[], env?: Record<string, string>): string {
    const r = spawnSync('tmux', ['-L', this.sock, ...args], { encoding: 'utf8', env: env ? baseEnv(env) : process.env });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }
  send(...keys: string[]): void { this.tmux(['send-keys', ...keys]); }
  type(text: string): void { this.tmux(['send-keys', '-l', text]); }
  screen(): string { return this.tmux(['capture-pane', '-p', '-J']); }
  /** Clears the line and the screen, types `text`, presses Tab and waits for `expected` on screen. */
  async complete(text: string, expected: RegExp, timeoutMs = 30_000): Promise<string> {
    await this.clear();
    this.type(text);
    this.send('Tab');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (expected.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`after typing ${JSON.stringify(text)} + Tab, no ${expected} on screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  /**
   * Clears the line and the screen and waits for the bare prompt: keys typed while the shell
   * still finishes the previous completion (slow on a loaded machine) would join the old line.
   */
  private async clear(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.send('C-c');
      this.send('C-l');
      for (let i = 0; i < 10; i++) {
        if (this.screen().trim() === '$') return;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (Date.now() > deadline) throw new Error(`no bare prompt after Ctrl-C, Ctrl-L:\n${this.screen()}`);
    }
  }
  /** Waits for `re` on screen (the shell has started, a command ran). */
  async waitFor(re: RegExp, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.screen())) {
      if (Date.now() > deadline) throw new Error(`no ${re} on screen:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  close(): void { this.tmux(['kill-server']); }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Every word shown, anywhere on the screen (a completion list or the completed line). */
const showsAll = (words: readonly string[]) => new RegExp(words.map((w) => `(?=[\\s\\S]*(?<![\\w-])${esc(w)}(?![\\w-]))`).join(''));

describe('bash completion in a terminal', () => {
  let term: Terminal;
  let env: Record<string, string>;
  beforeAll(async () => {
    const file = await scriptFile('bash');
    env = { ...callerEnv(stackOf(), 'comp-svc'), TERM: 'xterm', PS1: '$ ' };
    term = new Terminal(['bash', '--norc', '--noprofile', '-i'], env);
    term.type(`secret-svc() { ${CLI_FN} "$@"; }; bind 'set show-all-if-ambiguous on'; bind 'set completion-query-items 1000'; ` +
      `bind 'set page-completions off'; . '${file}'; echo READY`);
    term.send('Enter');
    await term.waitFor(/^READY$/m);
    return () => term.close();
  });

  it('completes every command, and each command\'s subcommands and flags', { timeout: SLOW }, async () => {
    for (const s of specs) {
      const line = ['secret-svc', ...s.path].join(' ');
      if (s.path.length > 0) {
        // The full name completes to itself and a space: the shell knows the command.
        await term.complete(line, new RegExp(`^\\$ ${esc(line)} $`, 'm'));
      }
      if (s.subcommands.length) await term.complete(`${line} `, showsAll(s.subcommands));
      await term.complete(`${line} --`, showsAll(s.flags.flatMap((f) => f.names).filter((n) => n.startsWith('--'))));
    }
  });

  it('completes enumerated values: keys <TAB>, completion <TAB>, export --format <TAB>, audit --op, sign, dev --log-level', { timeout: SLOW }, async () => {
    await term.complete('secret-svc keys ', showsAll(['generate', 'status', 'rewrap']));
    await term.complete('secret-svc completion ', showsAll(['bash', 'zsh', 'fish']));
    await term.complete('secret-svc export --format ', showsAll(['json', 'dotenv', 'shell', 'env-file']));
    await term.complete('secret-svc export --format env', /^\$ secret-svc export --format env-file $/m);
    await term.complete('secret-svc audit --op rev', showsAll(['revoke', 'revocations']));
    await term.complete('secret-svc sign who', /^\$ secret-svc sign whoami $/m);
    await term.complete('secret-svc dev --log-level w', /^\$ secret-svc dev --log-level warn $/m);
    // Global flags before the command still leave the command found.
    await term.complete('secret-svc --timeout 3000 export --format s', /^\$ secret-svc --timeout 3000 export --format shell $/m);
  });

  it('completes key names for every key argument (versions, rollback, update KEY, get, rm, run --key, export PREFIX)', { timeout: SLOW }, async () => {
    const seed = await cliIn(['set', 'comp-svc/DB_URL', 'x'], { env });
    expect(seed.code, seed.stderr).toBe(0);
    expect((await cliIn(['set', 'comp-svc/API', 'y'], { env })).code).toBe(0);
    const keyCommands = specs.filter((s) => s.args[0] === 'keys').map((s) => s.path.join(' '));
    expect(keyCommands).toEqual(expect.arrayContaining(['get', 'set', 'rm', 'versions', 'rollback', 'update', 'create', 'export', 'ls']));
    for (const c of keyCommands) await term.complete(`secret-svc ${c} comp-svc/`, showsAll(['comp-svc/API', 'comp-svc/DB_URL']));
    await term.complete('secret-svc rollback comp-svc/D', /^\$ secret-svc rollback comp-svc\/DB_URL $/m);
    await term.complete('secret-svc run --key comp-svc/A', /^\$ secret-svc run --key comp-svc\/API $/m);
    await term.complete('secret-svc audit --key comp-svc/D', /^\$ secret-svc audit --key comp-svc\/DB_URL $/m);
  });
});

describe('zsh completion in a terminal', () => {
  it('completes commands, subcommands, enumerated values and key names', { timeout: SLOW }, async () => {
    const file = await scriptFile('zsh');
    const env = { ...callerEnv(stack, 'zcomp-svc'), TERM: 'xterm', PS1: '$ ', HOME: tempDir('zsh-home') };
    expect((await cliIn(['set', 'zcomp-svc/TOKEN', 'x'], { env })).code).toBe(0);
    const term = new Terminal(['zsh', '-f', '-i'], env);
    try {
      term.type(`PS1='$ '; autoload -U compinit && compinit -u; secret-svc() { ${CLI_FN} "$@"; }; eval "$(cat '${file}')"; echo READY`);
      term.send('Enter');
      await term.waitFor(/^READY$/m);
      await term.complete('secret-svc keys', /^\$ secret-svc keys $/m);
      await term.complete('secret-svc keys ', showsAll(['generate', 'status', 'rewrap']));
      await term.complete('secret-svc completion ', showsAll(['bash', 'zsh', 'fish']));
      await term.complete('secret-svc export --format ', showsAll(['json', 'dotenv', 'shell', 'env-file']));
      await term.complete('secret-svc versions zcomp-svc/T', /^\$ secret-svc versions zcomp-svc\/TOKEN $/m);
    } finally {
      term.close();
    }
  });
});

describe('fish completion', () => {
  it('completes commands, subcommands, enumerated values and key names', { timeout: SLOW }, async () => {
    const file = await scriptFile('fish');
    const env = { ...callerEnv(stack, 'fcomp-svc'), HOME: tempDir('fish-home') };
    expect((await cliIn(['set', 'fcomp-svc/TOKEN', 'x'], { env })).code).toBe(0);
    // Asynchronously: the worker runs in this process and must keep answering the key lookups.
    const complete = async (line: string) => {
      const r = await runProgram('fish', ['--no-config', '-c', `function secret-svc; ${CLI_FN} $argv; end; source '${file}'; complete -C '${line}'`],
        { env: baseEnv(env) });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
    };
    expect(await complete('secret-svc ')).toEqual(expect.arrayContaining(specs.filter((s) => s.path.length === 1).map((s) => s.path[0]!)));
    expect((await complete('secret-svc keys ')).sort()).toEqual(['generate', 'rewrap', 'status']);
    expect((await complete('secret-svc completion ')).sort()).toEqual(['bash', 'fish', 'zsh']);
    expect((await complete('secret-svc export --format ')).sort()).toEqual(['dotenv', 'env-file', 'json', 'shell']);
    expect(await complete('secret-svc export --')).toEqual(expect.arrayContaining(['--format', '--strip-prefix', '--map', '--allow-empty']));
    expect(await complete('secret-svc versions fcomp-svc/')).toEqual(['fcomp-svc/TOKEN']);
  });
});
