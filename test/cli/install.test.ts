/**
 * The package as a tool: `npm pack` (which builds), `npm install -g` the tarball into a temporary
 * prefix, and the installed `secret-svc` works from a directory outside the repository, with the
 * workspace packages inside the tarball. Slow (a build and an install): one test.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';
import type { Stack } from '../helpers/stack.js';
import { callerEnv, tempDir, useStack } from './callers.js';
import { baseEnv, cliIn, runProgram } from './run-cli.js';

const stackOf = useStack();
let stack: Stack;
beforeEach(() => { stack = stackOf(); });

const sh = runProgram;

describe('npm pack → npm install -g', () => {
  it('puts a working secret-svc on PATH, usable outside the repository', { timeout: 600_000 }, async () => {
    const packDir = tempDir('pack');
    const prefix = tempDir('prefix');
    const elsewhere = tempDir('elsewhere');
    const npmEnv = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } as Record<string, string>;
    const pack = await sh('npm', ['pack', '--pack-destination', packDir], { cwd: ROOT, env: npmEnv });
    expect(pack.code, pack.stderr).toBe(0);
    const tarball = readdirSync(packDir).find((f) => /^secret-svc-.*\.tgz$/.test(f))!;
    expect(tarball).toBeDefined();
    const install = await sh('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', join(packDir, tarball)], { cwd: elsewhere, env: npmEnv });
    expect(install.code, install.stderr).toBe(0);

    const env = callerEnv(stack, 'demo');
    expect((await cliIn(['set', 'demo/GREETING', 'hello from the tarball'], { env })).code).toBe(0);
    const path = `${join(prefix, 'bin')}:${process.env.PATH ?? ''}`;
    const run = await sh('secret-svc', ['run', '--prefix', 'demo/', '--strip-prefix', '--', 'env'], { cwd: elsewhere, env: baseEnv({ ...env, PATH: path }) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('GREETING=hello from the tarball\n');
    const version = await sh('secret-svc', ['--version'], { cwd: elsewhere, env: baseEnv({ PATH: path }) });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);

    // The client the same way: its tarball (built on pack) with the protocol's, into a project.
    const libs = await sh('npm', ['pack', './protocol', './client', '--pack-destination', packDir], { cwd: ROOT, env: npmEnv });
    expect(libs.code, libs.stderr).toBe(0);
    const tgz = (name: string) => join(packDir, readdirSync(packDir).find((f) => f.startsWith(`secret-svc-${name}-`))!);
    const app = tempDir('app');
    const added = await sh('npm', ['install', '--prefer-offline', tgz('protocol'), tgz('client')], { cwd: app, env: npmEnv });
    expect(added.code, added.stderr).toBe(0);
    const use = await sh(process.execPath, ['--input-type=module', '-e',
      "const c = await import('@secret-svc/client'); const s = await c.SecretClient.fromEnv(); console.log((await s.read('demo/GREETING')).value); await s.close();"],
    { cwd: app, env: baseEnv(env) });
    expect(use.stdout, use.stderr).toBe('hello from the tarball\n');
  });
});
