// tune's compressor options: xz's -Xbcj filter when the boot reads mostly machine code, read from
// the ELF headers of the profiled files. Real binaries from this machine, real mksquashfs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bcjFilterOf, codeShare, compressorOptions, ELF_HEADER_BYTES } from '../src/optimize/code-filter.js';
import { runCli } from './helpers/cli.js';

const ELF = '/bin/true';
const header = (path: string): Buffer => readFileSync(path).subarray(0, ELF_HEADER_BYTES);
const machine = execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim();
const hostFilter = machine === 'x86_64' || /^i[3-6]86$/.test(machine) ? 'x86' : undefined;

t.test('ELF headers name the filter; anything else names none', (t) => {
  t.equal(bcjFilterOf(header(ELF)), hostFilter, `${ELF} on ${machine}`);
  t.equal(bcjFilterOf(Buffer.from('#!/bin/sh\necho not an ELF file\n')), undefined, 'a script');
  t.equal(bcjFilterOf(header(ELF).subarray(0, 10)), undefined, 'a header cut short');
  const arm = Buffer.from(header(ELF));
  arm.writeUInt16LE(40, 18); // EM_ARM
  t.equal(bcjFilterOf(arm), 'arm');
  const big = Buffer.from(header(ELF));
  big[5] = 2; // big-endian: e_machine read the other way round
  big.writeUInt16BE(20, 18); // EM_PPC
  t.equal(bcjFilterOf(big), 'powerpc');
  t.end();
});

t.test('the share of machine code decides, and only for xz', (t) => {
  const elf = header(ELF);
  const text = Buffer.from('plain text, twenty+ bytes long');
  const share = codeShare([800_000, 200_000, 10], (i) => (i === 0 ? elf : text));
  t.same(share, hostFilter === undefined ? undefined : { filter: hostFilter, codeBytes: 800_000, profiledBytes: 1_000_010 });
  if (hostFilter !== undefined) {
    t.same(compressorOptions('xz', () => share)?.options, ['-Xbcj', hostFilter]);
    t.equal(compressorOptions('gzip', () => share), undefined, 'gzip has no such filter');
    t.equal(compressorOptions('zstd', () => share), undefined);
    const little = codeShare([50_000, 950_000], (i) => (i === 0 ? elf : text));
    t.equal(compressorOptions('xz', () => little), undefined, '5% machine code: not worth a slower build');
  }
  t.equal(compressorOptions('xz', () => undefined), undefined, 'no machine code');
  t.end();
});

t.test('tune --comp xz prints -Xbcj; sort and mksquashfs take the same line', { skip: hostFilter === undefined ? `no BCJ filter for ${machine}` : false }, (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  copyFileSync(ELF, join(root, 'usr/bin/true'));
  writeFileSync(join(root, 'etc/motd'), 'welcome\n'.repeat(200));
  const events = join(dir, 'events.tsv');
  writeFileSync(
    events,
    [
      '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath',
      '0\t1000\topen\t1\tinit\t-\t-\t-\t-\t/usr/bin/true',
      '1\t2000\tread\t1\tinit\t-\t-\t0\t4096\t/usr/bin/true',
      '2\t3000\topen\t1\tinit\t-\t-\t-\t-\t/etc/motd',
      '3\t4000\tread\t1\tinit\t-\t-\t0\t1600\t/etc/motd',
      '',
    ].join('\n'),
  );
  const xz = runCli(['tune', '--root', root, '--comp', 'xz', events]);
  t.equal(xz.status, 0, xz.stderr);
  t.match(xz.stdout, new RegExp(`^-b \\d+ -Xbcj ${hostFilter}\\n$`), 'one line: -b N -Xbcj FILTER');
  t.match(xz.stderr, /machine code: xz's -Xbcj/, 'says why on stderr');
  const viaArgs = runCli(['tune', '--root', root, '--mksquashfs-args=-comp xz', events]);
  t.equal(viaArgs.stdout, xz.stdout, 'the compressor can come from --mksquashfs-args');
  const gzip = runCli(['tune', '--root', root, events]);
  t.match(gzip.stdout, /^-b \d+\n$/, 'mksquashfs\'s default compressor (gzip): no filter');
  const opts = xz.stdout.trim().split(' ');
  const sort = runCli(['sort', '--root', root, ...opts, events]);
  t.equal(sort.status, 0, sort.stderr);
  t.match(sort.stdout, /^usr\/bin\/true /m, 'sort $OPTS accepts -Xbcj');
  const sortFile = join(dir, 'boot.sort');
  writeFileSync(sortFile, sort.stdout);
  const sq = join(dir, 'fs.sqfs');
  execFileSync('mksquashfs', [root, sq, '-noappend', '-no-progress', '-quiet', '-comp', 'xz', ...opts, '-sort', sortFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stat = execFileSync('unsquashfs', ['-s', sq], { encoding: 'utf8' });
  t.match(stat, new RegExp(`Filters selected: ${hostFilter}`), 'mksquashfs built it with the filter');
  t.end();
});
