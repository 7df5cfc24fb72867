import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';

// The seed's one-liner, with MDK::Common's uniq and map_index written out (MDK::Common is not packaged here).
const SEED_ONE_LINER = String.raw`
sub uniq { my %l; $l{$_} = 1 foreach @_; grep { delete $l{$_} } @_ }
sub map_index(&@) { my $f = shift; my @v; local $::i = 0; foreach (@_) { push @v, &$f($::i); $::i++ } @v }
print map_index { (32767 - $::i) . " $_" } grep { !m,^/(?:dev|proc|sys|live/distrib), } uniq(<>)`;

function seed(input: string): Buffer {
  return execFileSync('perl', ['-e', SEED_ONE_LINER, input]);
}

/** A realistic profile: real paths of this machine, revisited, with the seed's excluded trees mixed in. */
function realisticProfile(): string {
  const paths: string[] = [];
  for (const dir of ['/usr/bin', '/usr/lib/x86_64-linux-gnu', '/etc']) {
    for (const name of readdirSync(dir).slice(0, 400)) paths.push(`${dir}/${name}`);
  }
  const lines: string[] = [];
  let x = 12345;
  for (let i = 0; i < 3000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const pick = x % 10;
    if (pick === 0) lines.push(`/proc/${x % 500}/status`);
    else if (pick === 1) lines.push(['/dev/null', '/sys/class/net', '/live/distrib/x', '/devices-not-dev'][x % 4]!);
    else lines.push(paths[x % paths.length]!);
  }
  return lines.join('\n') + '\n';
}

const profiles: Record<string, string> = {
  'duplicates and excludes': '/sbin/init\n/etc/fstab\n/dev/console\n/sbin/init\n/proc/1/maps\n/lib/libc.so.6\n/etc/fstab\n/sys/kernel\n/live/distrib/sqfs\n/usr/bin/X\n',
  'no final newline, CRLF, blank lines, spaces': '/etc/a b\r\n\n/etc/a b\r\n/opt/x\n\n/opt/y',
  'realistic, 3000 lines': realisticProfile(),
};

for (const [name, text] of Object.entries(profiles)) {
  t.test(`--format draklive is byte-identical to the seed's one-liner: ${name}`, (t) => {
    const dir = t.testdir();
    const file = join(dir, 'bootlog.list');
    writeFileSync(file, text);
    const expected = seed(file);
    const res = runCli(['sort', '--format', 'draklive', file]);
    t.equal(res.status, 0, res.stderr);
    t.ok(expected.length > 0);
    t.equal(Buffer.from(res.stdout, 'utf8').compare(expected), 0, 'same bytes');
    t.end();
  });
}

t.test('draklive mode reads several profiles like perl <> does', (t) => {
  const dir = t.testdir({ 'a.list': '/a\n/b\n/dev/x\n', 'b.list': '/b\n/c\n' });
  const expected = execFileSync('perl', ['-e', SEED_ONE_LINER, join(dir, 'a.list'), join(dir, 'b.list')]);
  const res = runCli(['sort', '--format', 'draklive', join(dir, 'a.list'), join(dir, 'b.list')]);
  t.equal(res.stdout, expected.toString('utf8'));
  t.end();
});
