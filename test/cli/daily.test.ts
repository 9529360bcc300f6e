/**
 * Daily use: `run -- cmd` (a real process), exports sourced by a real bash, binary-safe `set`,
 * import checked first, `rm` of many, list edits, and completion scripts run in bash.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Stack } from '../helpers/stack.js';
import { ROOT } from '../helpers/process.js';
import { callerEnv, tempDir, useStack } from './callers.js';
import { baseEnv, cli, cliArgs, cliIn, runProgram } from './run-cli.js';

const stackOf = useStack();
let stack: Stack;
beforeEach(() => { stack = stackOf(); });

/** Values a shell or env file could mangle: quotes, $, backslashes, newlines, trailing space. */
const TRICKY: Record<string, string> = {
  PLAIN: 'plain',
  EMPTY: '',
  SPACES: '  two  spaces  ',
  QUOTES: `it's "quoted" \`id\` $HOME $(id) \\n \\`,
  CERT: '-----BEGIN-----\nline2\n\nline4\n-----END-----\n',
  CRLF: 'a\r\nb',
  UNICODE: 'grüße ✓',
};

async function seed(env: Record<string, string>, prefix: string, values: Record<string, string>): Promise<void> {
  const file = join(tempDir('seed'), 'in.json');
  writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(values).map(([k, v]) => [prefix + k, v]))));
  const r = await cliIn(['import', file], { env });
  expect(r.code, r.stderr).toBe(0);
}

/** Prints each variable as JSON from inside bash, after running `setup`. */
function bashValues(setup: string, names: string[], env: Record<string, string> = {}): Record<string, string> {
  const script = `${setup}\nnode -e 'const o={}; for (const n of process.argv.slice(1)) o[n]=process.env[n]; console.log(JSON.stringify(o))' ${names.join(' ')}`;
  const r = spawnSync('bash', ['-c', script], { env: baseEnv(env), encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, string>;
}

describe('export formats', () => {
  it('dotenv and shell give the exact bytes back when sourced by bash', async () => {
    const env = callerEnv(stack, 'exp-svc');
    await seed(env, 'exp-svc/', TRICKY);
    const dir = tempDir('export');
    for (const format of ['dotenv', 'shell']) {
      const file = join(dir, `out.${format}`);
      const r = await cliIn(['export', 'exp-svc/', '--format', format, '--strip-prefix', '--out', file], { env });
      expect(r.code, r.stderr).toBe(0);
      const setup = format === 'dotenv' ? `set -a; . '${file}'; set +a` : `. '${file}'`;
      expect(bashValues(setup, Object.keys(TRICKY))).toEqual(TRICKY);
    }
    // dotenv is also what import reads back.
    const again = await cliIn(['import', join(dir, 'out.dotenv'), '--format', 'dotenv', '--prefix', 'exp-svc/again/'], { env });
    expect(again.code, again.stderr).toBe(0);
    const json = await cliIn(['export', 'exp-svc/again/', '--format', 'json'], { env });
    expect(Object.fromEntries((JSON.parse(json.stdout) as Array<{ key: string; value: string }>).map((s) => [s.key.slice('exp-svc/again/'.length), s.value]))).toEqual(TRICKY);
  });

  it('env-file writes raw one-line values and refuses multi-line ones, naming the key', async () => {
    const env = callerEnv(stack, 'envf-svc');
    await seed(env, 'envf-svc/', { A: `x 'y' "z" $HOME`, B: 'plain' });
    const ok = await cliIn(['export', 'envf-svc/', '--format', 'env-file', '--strip-prefix'], { env });
    expect(ok).toMatchObject({ code: 0, stdout: `A=x 'y' "z" $HOME\nB=plain\n` });
    await seed(env, 'envf-svc/', { CERT: 'l1\nl2' });
    const multi = await cliIn(['export', 'envf-svc/', '--format', 'env-file', '--strip-prefix'], { env });
    expect([multi.code, multi.stdout]).toEqual([2, '']);
    expect(multi.stderr).toContain('envf-svc/CERT: the value has a line break');
  });

  it('refuses a value with a NUL byte in every variable format and in run, naming the key; json keeps it', async () => {
    const env = callerEnv(stack, 'nul-svc');
    await seed(env, 'nul-svc/', { OK: 'fine', NUL: 'before\0after' });
    const refused = await Promise.all([
      ...['dotenv', 'shell', 'env-file'].map((format) => cliIn(['export', 'nul-svc/', '--format', format, '--strip-prefix'], { env })),
      cli(['run', '--prefix', 'nul-svc/', '--strip-prefix', '--', 'true'], { env }),
    ]);
    for (const r of refused) {
      expect([r.code, r.stdout]).toEqual([2, '']);
      expect(r.stderr).toContain('nul-svc/NUL: the value has a NUL byte');
    }
    const json = await cliIn(['export', 'nul-svc/', '--format', 'json'], { env });
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as Array<{ key: string; value: string }>).find((s) => s.key === 'nul-svc/NUL')?.value).toBe('before\0after');
  });

  it('name variables by the same rule as run: the whole key made valid, or mapped', async () => {
    const env = callerEnv(stack, 'name-svc');
    await seed(env, 'name-svc/', { BIN: 'x', 'api.key': 'k' });
    const [dotenv, shell, mapped] = await Promise.all([
      cliIn(['export', 'name-svc/', '--format', 'dotenv'], { env }),
      cliIn(['export', 'name-svc/', '--format', 'shell'], { env }),
      cliIn(['export', 'name-svc/', '--format', 'env-file', '--map', 'name-svc/=APP_'], { env }),
    ]);
    expect(dotenv).toMatchObject({ code: 0, stdout: 'name_svc_BIN=x\nname_svc_api_key=k\n' });
    expect(shell).toMatchObject({ code: 0, stdout: "export name_svc_BIN='x'\nexport name_svc_api_key='k'\n" });
    expect(mapped).toMatchObject({ code: 0, stdout: 'APP_BIN=x\nAPP_api_key=k\n' });
    // run gives the child exactly these names, with the same flags.
    const check = 'test "$name_svc_BIN" = x && test "$name_svc_api_key" = k';
    expect((await cliIn(['run', '--key', 'name-svc/BIN', '--key', 'name-svc/api.key', '--', 'sh', '-c', check], { env })).code).toBe(0);
    expect((await cliIn(['run', '--prefix', 'name-svc/', '--map', 'name-svc/=APP_', '--', 'sh', '-c', 'test "$APP_api_key" = k'], { env })).code).toBe(0);
    expect((await cliIn(['run', '--key', 'name-svc/BIN', '--map', 'name-svc/=', '--', 'sh', '-c', 'test "$BIN" = x'], { env })).code).toBe(0);
  });

  it('a prefix that matches nothing readable is exit 3 for run and export, unless --allow-empty', async () => {
    const env = callerEnv(stack, 'empty-svc');
    await seed(env, 'empty-svc/', { A: '1' });
    const [run, exp] = await Promise.all([
      cliIn(['run', '--prefix', 'empty-svc/typo/', '--', 'sh', '-c', 'echo ran'], { env }),
      cliIn(['export', 'empty-svc/typo/', '--format', 'dotenv'], { env }),
    ]);
    for (const r of [run, exp]) {
      expect([r.code, r.stdout]).toEqual([3, '']);
      expect(r.stderr).toContain('no secret you can read under "empty-svc/typo/"');
      expect(r.stderr).toContain('--allow-empty');
    }
    const [runOk, expOk] = await Promise.all([
      cliIn(['run', '--prefix', 'empty-svc/typo/', '--allow-empty', '--', 'true'], { env }),
      cliIn(['export', 'empty-svc/typo/', '--format', 'dotenv', '--allow-empty'], { env }),
    ]);
    expect([runOk.code, expOk.code, expOk.stdout]).toEqual([0, 0, '']);
  });
});

describe('run -- cmd (a real process)', () => {
  it('passes the secrets to the child only, returns its status, and keeps names valid', { timeout: 120_000 }, async () => {
    const env = callerEnv(stack, 'run-svc');
    await seed(env, 'run-svc/', { DB_URL: 'postgres://u:p@h/db', 'api.key': 'k\nmultiline', OTHER: 'o' });
    const script = 'const e = process.env; console.log(JSON.stringify({ DB_URL: e.DB_URL, api_key: e.api_key, OTHER: e.OTHER, KEEP: e.KEEP, leak: Object.keys(e).filter((k) => k.startsWith("run_svc")) })); process.exit(7)';
    const r = await cli(['run', '--prefix', 'run-svc/', '--strip-prefix', '--', process.execPath, '-e', script], { env: { ...env, KEEP: 'inherited' } });
    expect(r.code, r.stderr).toBe(7);
    expect(JSON.parse(r.stdout)).toEqual({ DB_URL: 'postgres://u:p@h/db', api_key: 'k\nmultiline', OTHER: 'o', KEEP: 'inherited', leak: [] });

    // Without --strip-prefix: run-svc/DB_URL -> run_svc_DB_URL; --key picks single secrets.
    const keyed = await cli(['run', '--key', 'run-svc/DB_URL', '--', 'sh', '-c', 'printf %s "$run_svc_DB_URL"'], { env });
    expect(keyed).toMatchObject({ code: 0, stdout: 'postgres://u:p@h/db' });
    // A missing --key is exit 3, before anything runs.
    const missing = await cliIn(['run', '--key', 'run-svc/NOPE', '--', 'sh', '-c', 'echo ran'], { env });
    expect([missing.code, missing.stdout]).toEqual([3, '']);
  });

  it('refuses two keys that give one name', async () => {
    const env = callerEnv(stack, 'clash-svc');
    await seed(env, 'clash-svc/', { 'a.b': '1', a_b: '2' });
    const r = await cliIn(['run', '--prefix', 'clash-svc/', '--strip-prefix', '--', 'true'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/clash-svc\/a.b and clash-svc\/a_b would both be the variable a_b/);
  });

  it('forwards SIGTERM to the child and returns 128+15 when it dies of it', { timeout: 120_000 }, async () => {
    const env = callerEnv(stack, 'sig-svc');
    await seed(env, 'sig-svc/', { X: '1' });
    const proc = spawn(process.execPath, cliArgs(['run', '--prefix', 'sig-svc/', '--', 'sh', '-c', 'echo started; sleep 30']), {
      cwd: ROOT, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('started')) resolve(); });
      proc.once('exit', () => reject(new Error(`exited early: ${err}`)));
    });
    const code = new Promise<string>((resolve) => proc.once('exit', (c, s) => resolve(`${c} ${s}`)));
    proc.kill('SIGTERM');
    expect(await code, `${err} / ${out}`).toBe('143 null');
  });
});

describe('set and get of bytes', () => {
  it('refuses input that is not UTF-8 (exit 2, naming --base64); --base64 stores it and --base64-decode gives it back', async () => {
    const env = callerEnv(stack, 'bin-svc');
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]);
    const refused = await cliIn(['set', 'bin-svc/BLOB'], { env, input: bytes });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not valid UTF-8.*--base64/);
    expect((await cliIn(['get', 'bin-svc/BLOB'], { env })).code).toBe(3); // nothing stored

    const stored = await cliIn(['set', '--base64', 'bin-svc/BLOB'], { env, input: bytes });
    expect(stored.code, stored.stderr).toBe(0);
    const [text, decoded] = await Promise.all([cliIn(['get', 'bin-svc/BLOB'], { env }), cliIn(['get', '--base64-decode', 'bin-svc/BLOB'], { env })]);
    expect(text.stdout).toBe(`${bytes.toString('base64')}\n`);
    expect(decoded.stdoutBytes.equals(bytes)).toBe(true);

    // --file keeps the file's bytes exactly (no newline dropped).
    const file = join(tempDir('file'), 'cert.pem');
    writeFileSync(file, 'line1\nline2\n');
    expect((await cliIn(['set', 'bin-svc/CERT', '--file', file], { env })).code).toBe(0);
    expect((await cliIn(['get', '-n', 'bin-svc/CERT'], { env })).stdout).toBe('line1\nline2\n');
  });
});

describe('import', () => {
  it('checks every entry before writing any and says so', async () => {
    const env = callerEnv(stack, 'imp-svc');
    const file = join(tempDir('imp'), 'bad.json');
    writeFileSync(file, JSON.stringify({ 'imp-svc/NEW': 'x', 'bad key': 'y' }));
    const r = await cliIn(['import', file], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('entry 2 ("bad key"): invalid key');
    expect(r.stderr).toContain('nothing was written');
    expect((await cliIn(['get', 'imp-svc/NEW'], { env })).code).toBe(3);
  });

  it('--dry-run prints the plan and writes nothing', async () => {
    const env = callerEnv(stack, 'dry-svc');
    await seed(env, 'dry-svc/', { SAME: 's', CHANGED: 'old' });
    const file = join(tempDir('dry'), 'in.json');
    writeFileSync(file, JSON.stringify({ SAME: 's', CHANGED: 'new', NEW: 'n' }));
    const r = await cliIn(['import', file, '--prefix', 'dry-svc/', '--dry-run'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('unchanged  dry-svc/SAME\nupdate     dry-svc/CHANGED\ncreate     dry-svc/NEW\n' +
      'dry run: 1 to create, 1 to update, 1 unchanged; nothing written\n');
    expect((await cliIn(['get', 'dry-svc/CHANGED'], { env })).stdout).toBe('old\n');
    expect((await cliIn(['get', 'dry-svc/NEW'], { env })).code).toBe(3);
  });

  it('asks before writing more than 20 top-level keys; --yes goes ahead', async () => {
    const env = callerEnv(stack, 'top-svc', { admin: true });
    const file = join(tempDir('top'), 'many.json');
    writeFileSync(file, JSON.stringify(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`TOP_${i}`, 'v']))));
    const refused = await cliIn(['import', file], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/write 21 top-level keys .*pass --yes/);
    expect((await cliIn(['get', 'TOP_0'], { env })).code).toBe(3);
    const done = await cliIn(['import', file, '--yes'], { env });
    expect(done).toMatchObject({ code: 0, stdout: 'imported 21 secrets (21 created, 0 updated, 0 unchanged)\n' });
    const rm = await cliIn(['rm', '--prefix', 'TOP_', '--yes'], { env });
    expect(rm.stdout).toMatch(/deleted 21 secrets\n$/);
  });
});

describe('rm and list edits', () => {
  it('rm of several keys and --prefix needs --yes and prints a summary', async () => {
    const env = callerEnv(stack, 'rm-svc');
    await seed(env, 'rm-svc/', { A: '1', B: '2', 'sub/C': '3', 'sub/D': '4' });
    const refused = await cliIn(['rm', 'rm-svc/A', 'rm-svc/B'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/delete 2 secrets .*pass --yes/);
    const two = await cliIn(['rm', 'rm-svc/A', 'rm-svc/B', '--yes'], { env });
    expect(two).toMatchObject({ code: 0, stdout: 'deleted rm-svc/A\ndeleted rm-svc/B\ndeleted 2 secrets\n' });
    const prefix = await cliIn(['rm', '--prefix', 'rm-svc/sub/', '-y'], { env });
    expect(prefix).toMatchObject({ code: 0, stdout: 'deleted rm-svc/sub/C\ndeleted rm-svc/sub/D\ndeleted 2 secrets\n' });
    const ls = await cliIn(['ls', '--json', 'rm-svc/'], { env });
    expect(JSON.parse(ls.stdout)).toEqual([]);
  });

  it('update --add-reader/--remove-reader change the current lists', async () => {
    const env = callerEnv(stack, 'edit-svc');
    expect((await cliIn(['create', 'edit-svc/K', 'v', '--reader', 'edit-svc', '--reader', 'old'], { env })).code).toBe(0);
    const r = await cliIn(['update', 'edit-svc/K', '--add-reader', 'web', '--remove-reader', 'old', '--add-deleter', 'ops'], { env });
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse((await cliIn(['get', '--json', 'edit-svc/K'], { env })).stdout) as Record<string, unknown>;
    expect(meta).toMatchObject({ value: 'v', readers: ['edit-svc', 'web'], writers: ['edit-svc'], deleters: ['edit-svc', 'ops'], version: 2 });
    const contradiction = await cliIn(['update', 'edit-svc/K', '--reader', 'x', '--add-reader', 'y'], { env });
    expect(contradiction.code).toBe(2);
  });
});

const bash = (script: string, env: Record<string, string>) => runProgram('bash', ['-c', script], { env: baseEnv(env) });

describe('completion', () => {
  it('bash completes commands, flags and key names from ls', { timeout: 120_000 }, async () => {
    const env = callerEnv(stack, 'comp-svc');
    await seed(env, 'comp-svc/', { DB_URL: 'x', API: 'y' });
    const script = await cliIn(['completion', 'bash']);
    expect(script.code).toBe(0);
    const file = join(tempDir('comp'), 'secret-svc.bash');
    writeFileSync(file, script.stdout);
    // The script calls `secret-svc`: here the real bin through tsx.
    // Async: the worker runs in this process and must keep answering while bash runs.
    const complete = async (words: string[], extra: Record<string, string> = {}) => {
      const setup = `secret-svc() { "${process.execPath}" --import tsx "${ROOT}src/cli/main.ts" "$@"; }\n. '${file}'\n` +
        `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _secret_svc; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = await bash(setup, { ...env, ...extra });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    expect(await complete(['secret-svc', 'ex'])).toEqual(['export']);
    expect(await complete(['secret-svc', 'export', '--form'])).toEqual(['--format']);
    expect(await complete(['secret-svc', 'get', 'comp-svc/'])).toEqual(['comp-svc/API', 'comp-svc/DB_URL']);
    // Without a credential: no key names, no error text.
    expect(await complete(['secret-svc', 'get', 'comp'], { SECRET_SVC_CREDENTIAL: '', SECRET_SVC_KEY_FILE: '' })).toEqual([]);
    for (const shell of ['zsh', 'fish']) {
      const r = await cliIn(['completion', shell]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('__complete-keys');
      expect(r.stdout).toContain('export');
    }
    expect((await cliIn(['completion', 'tcsh'])).code).toBe(2);
  });
});
