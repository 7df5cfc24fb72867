#!/usr/bin/env node
// `npm run demo`: the main job on the bundled profile, on a fresh machine, without qemu or root.
// Writes demo-output/{distrib.sort, readahead.list, readahead.ranges, report.html} and prints the sort file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const top = fileURLToPath(new URL('..', import.meta.url));
const cli = `${top}dist/cli/main.js`;
if (!existsSync(cli)) {
  process.stderr.write('demo: dist/ is missing; run "npm run build" first (npm run demo builds it)\n');
  process.exit(1);
}
// The default is a real Debian live boot (scripts/bench-real); vm-workload is the small test image's boot.
const name = process.env.BOOTPROF_DEMO_PROFILE ?? 'debian-bookworm-live';
const profileDir = `${top}profiles/${name}`;
const manifest = [`${profileDir}/image-manifest.json.gz`, `${profileDir}/image-manifest.json`].find((f) => existsSync(f));
// the file-level profile where there is one, else the first-access list
const files = [`${profileDir}/profile.tsv`, `${profileDir}/bootlog.list`].find((f) => existsSync(f));
// a physical trace when the profile has one; otherwise the report replays the profile onto the layouts
const blockTrace = existsSync(`${profileDir}/qemu-trace.log`) ? [`${profileDir}/qemu-trace.log`] : [];
const out = `${top}demo-output`;
mkdirSync(out, { recursive: true });

function run(args) {
  process.stderr.write(`\ndemo: bootprof ${args.map((a) => a.replace(top, '')).join(' ')}\n`);
  const res = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.status !== 0) {
    process.stderr.write(`demo: that step failed (exit ${res.status})\n`);
    process.exit(res.status ?? 1);
  }
}

run(['sort', '--image', manifest, files, '-o', `${out}/distrib.sort`]);
run(['readahead', '--image', manifest, files, '-o', `${out}/readahead.list`]);
run(['readahead', '--ranges', '--image', manifest, files, '-o', `${out}/readahead.ranges`]);
run(['report', '--image', manifest, ...blockTrace, files, '-o', `${out}/report.html`]);
process.stderr.write(`\ndemo: wrote ${out}/{distrib.sort,readahead.list,readahead.ranges,report.html}; the sort file:\n\n`);
process.stdout.write(readFileSync(`${out}/distrib.sort`, 'utf8'));
