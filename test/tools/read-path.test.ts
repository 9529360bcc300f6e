/** `bench/read-path.ts` (the README's way to see a read's path) runs and names the drawn chain. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/process.js';

const run = promisify(execFile);

it('lists the files one signed read runs through, from the service to the store', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/read-path.ts'], { cwd: ROOT, timeout: 60_000 });
  const files = stdout.split('\n').filter((l) => /^(src|protocol\/src)\//.test(l)).map((l) => l.split(/\s+/)[0]);
  for (const step of ['src/service.ts', 'src/pipeline.ts', 'src/auth/authenticate.ts', 'src/ops/read.ts', 'src/policy.ts', 'src/store/secret-store.ts', 'src/store/seal.ts']) {
    expect(files).toContain(step);
  }
  // Only the request's path: the revocation watcher's background poll is stopped first.
  expect(files).not.toContain('src/revocation/watcher.ts');
  expect(stdout).toMatch(new RegExp(`one signed read: ${files.length} files \\(\\d+ in src/, \\d+ in protocol/src/\\)`));
}, 90_000);
