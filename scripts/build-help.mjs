#!/usr/bin/env node
// Part of `npm run build`: writes yargs's own top-level --help text to dist/cli/help.txt, so that
// `bootprof --help` can print it without loading yargs (src/cli/quick-answers.ts).
import { writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli/', import.meta.url);
const { run } = await import(new URL('parser.js', cli));
const { HELP_CACHE, HELP_CACHE_COLUMNS } = await import(new URL('quick-answers.js', cli));
let out = '';
let err = '';
const code = await run(['--help'], { stdout: (t) => (out += t), stderr: (t) => (err += t), columns: HELP_CACHE_COLUMNS });
if (code !== 0 || out === '') throw new Error(`bootprof --help failed (${code}): ${err}`);
const path = fileURLToPath(new URL(HELP_CACHE, cli));
writeFileSync(`${path}.tmp`, out);
renameSync(`${path}.tmp`, path);
