#!/usr/bin/env node
/** `secret-svc`: the package's bin (see `secret-svc --help`). */
import { finish } from './lib/process-exit.js';
import { runCli } from './program.js';

finish(await runCli(process.argv));
