#!/usr/bin/env node
/** `secret-svc`: the package's bin (see `secret-svc --help`). */
import { run } from './program.js';

process.exitCode = await run(process.argv);
