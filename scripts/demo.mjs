#!/usr/bin/env node
// `npm run demo`: the main job on the bundled profile, on a fresh machine, without qemu or root.
// Prints the mksquashfs sort file on stdout; messages go to stderr.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const top = fileURLToPath(new URL('..', import.meta.url));
const cli = `${top}dist/cli/main.js`;
if (!existsSync(cli)) {
  process.stderr.write('demo: dist/ is missing; run "npm ci" (it builds) or "npm run build" first\n');
  process.exit(1);
}
const profile = `${top}profiles/vm-workload/bootlog.list`;
process.stderr.write(`demo: bootprof sort ${profile}\n`);
const res = spawnSync(process.execPath, [cli, 'sort', profile], { stdio: 'inherit' });
process.exit(res.status ?? 1);
