/**
 * The early-boot files under integrations/tracefs: the arm and save scripts run in the VM test
 * (test/capture-tracefs.test.ts, bp_tracefs=1); here every shell script parses and the systemd unit
 * passes systemd-analyze.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../integrations/tracefs/', import.meta.url));
const scripts = [
  'bootprof-tracefs-arm',
  'bootprof-tracefs-save',
  'initramfs-tools/hooks/bootprof-tracefs',
  'initramfs-tools/scripts/init-top/bootprof-tracefs',
];

for (const name of scripts) {
  t.test(name, async (t) => {
    const path = dir + name;
    t.ok(statSync(path).mode & 0o100, 'executable');
    for (const shell of ['sh', 'busybox']) {
      const args = shell === 'busybox' ? ['sh', '-n', path] : ['-n', path];
      const r = spawnSync(shell, args, { encoding: 'utf8' });
      t.equal(r.status, 0, `${shell} sh -n: ${r.stderr}`);
    }
    const prereqs = spawnSync('sh', [path, 'prereqs'], { encoding: 'utf8' });
    if (name.startsWith('initramfs-tools/')) t.equal(prereqs.status, 0, 'answers prereqs without doing anything');
  });
}

t.test('the systemd unit', async (t) => {
  const r = spawnSync('systemd-analyze', ['verify', `${dir}systemd/bootprof-tracefs-save.service`], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '', 'no warnings');
});
