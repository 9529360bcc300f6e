/** The embedded Lua (src/store/lua.generated.ts) is the text of src/store/scripts/ today. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { generated } from '../../scripts/embed-lua.mjs';
import { SCRIPT_NAMES } from '../../src/store/script-loader.js';
import { LUA } from '../../src/store/lua.generated.js';

describe('embedded Lua scripts', () => {
  it('match the script files, includes resolved (run `node scripts/embed-lua.mjs` after editing one)', () => {
    const committed = readFileSync(new URL('../../src/store/lua.generated.ts', import.meta.url), 'utf8');
    expect(committed === (generated as () => string)()).toBe(true);
  });

  it('hold every script the loader registers, with no include left unresolved', () => {
    for (const name of SCRIPT_NAMES) {
      expect(LUA[name]).toContain('redis.call');
      expect(LUA[name]).not.toMatch(/^--- @include/m);
    }
  });
});
