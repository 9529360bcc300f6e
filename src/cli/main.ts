#!/usr/bin/env node
/** `secret-svc`: the package's bin (see `secret-svc --help`). */
import { finish } from './lifecycle.js';
import { run } from './program.js';

finish(await run(process.argv));
