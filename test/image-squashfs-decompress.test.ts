import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import t from 'tap';
import { BufferSource } from '../src/image/source.js';
import { DecompressError, decompressorFor, type CompressorName } from '../src/image/decompress/index.js';
import { openSquashfs, readFile } from '../src/image/squashfs/index.js';
import { xzBlocks } from '../src/image/decompress/xz.js';
import { makeSquashfsTree } from './helpers/squashfs-tree.js';
import { mksquashfs } from './helpers/squashfs-tools.js';

const dir = t.testdir();
const source = join(dir, 'src');
makeSquashfsTree(source, {});

/** Compressed blocks written by mksquashfs: the first inode-table block and every compressed data block. */
function realBlocks(compressor: CompressorName): { raw: Buffer; size: number }[] {
  const path = join(dir, `${compressor}.sqfs`);
  mksquashfs(source, path, ['-comp', compressor, '-b', '64K']);
  const bytes = readFileSync(path);
  const img = openSquashfs(new BufferSource(path, bytes));
  const out: { raw: Buffer; size: number }[] = [];
  const inodeStart = img.superblock.inodeTableStart;
  const header = bytes.readUInt16LE(inodeStart);
  if ((header & 0x8000) === 0) {
    const raw = bytes.subarray(inodeStart + 2, inodeStart + 2 + header);
    out.push({ raw, size: img.readBlock(inodeStart + 2, header, false, 'inode block').length });
  }
  for (const e of img.entries) {
    for (const b of e.blocks ?? []) {
      if (b.sparse || b.uncompressed) continue;
      out.push({ raw: bytes.subarray(b.offset, b.offset + b.size), size: img.readBlock(b.offset, b.size, false, 'data').length });
    }
  }
  return out;
}

const COMPRESSORS: CompressorName[] = ['gzip', 'xz', 'lzma', 'lzo', 'lz4', 'zstd'];

for (const name of COMPRESSORS) {
  t.test(`${name}: real blocks, output limits, truncation and corruption`, (t) => {
    const decompress = decompressorFor(name);
    const blocks = realBlocks(name);
    t.ok(blocks.length >= 5, `${blocks.length} compressed blocks from mksquashfs -comp ${name}`);
    let limitErrors = 0;
    let untyped: string[] = [];
    let x = 99;
    const rand = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const attempt = (input: Buffer, limit: number): Buffer | undefined => {
      try {
        return decompress(input, limit);
      } catch (err) {
        if (!(err instanceof DecompressError)) untyped.push(`${(err as Error).name}: ${(err as Error).message}`);
        return undefined;
      }
    };
    for (const { raw, size } of blocks.slice(0, 12)) {
      t.equal(decompress(raw, size).length, size, 'decodes to the size the image implies');
      try {
        decompress(raw, size - 1);
      } catch (err) {
        if (err instanceof DecompressError) limitErrors++;
      }
      for (const cut of [0, 1, 2, raw.length >> 1, raw.length - 1]) attempt(raw.subarray(0, cut), size);
      for (let i = 0; i < 30; i++) {
        const bad = Buffer.from(raw);
        for (let k = 0; k < 1 + rand(3); k++) {
          const at = rand(bad.length);
          bad[at] = bad[at]! ^ (1 << rand(8));
        }
        const out = attempt(bad, size);
        if (out) t.ok(out.length <= size, 'corrupt input never exceeds the limit');
      }
    }
    t.equal(limitErrors, Math.min(12, blocks.length), 'one byte less than needed is refused');
    t.same(untyped.slice(0, 3), [], 'only DecompressError escapes');
    untyped = [];
    t.end();
  });
}

t.test('xz with the x86 BCJ filter (mksquashfs -Xbcj x86), on real executables', (t) => {
  const root = join(dir, 'bcj');
  mkdirSync(root);
  const sources = ['/usr/bin/ls', '/usr/bin/cp', '/bin/bash'].filter((p) => existsSync(p));
  for (const p of sources) copyFileSync(p, join(root, basename(p)));
  const image = join(dir, 'bcj.sqfs');
  mksquashfs(root, image, ['-comp', 'xz', '-Xbcj', 'x86', '-b', '64K']);
  const bytes = readFileSync(image);
  const img = openSquashfs(new BufferSource(image, bytes));
  t.same(img.compressorOptions, { dictionarySize: 65536, filters: 1 }, 'x86 filter in the options');
  let filtered = 0;
  for (const e of img.entries) {
    if (e.type !== 'file') continue;
    t.ok(readFile(img, e).equals(readFileSync(join(root, e.path))), `${e.path} content`);
    for (const b of e.blocks!) {
      if (!b.uncompressed && xzBlocks(bytes.subarray(b.offset, b.offset + b.size)).some((x) => x.bcj?.id === 0x04)) filtered++;
    }
  }
  t.ok(filtered > 0, `${filtered} data blocks use the x86 filter`);
  t.end();
});

t.test('every BCJ filter xz(1) can write, with and without a start offset', (t) => {
  // Code-like data: each architecture's call pattern at many positions, plus noise and text.
  const size = 200_000;
  const data = Buffer.alloc(size);
  let x = 7;
  for (let i = 0; i < size; i += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    const kind = x % 8;
    if (kind === 0) data.writeUInt32LE((0xeb000000 | ((x >>> 8) & 0xffff)) >>> 0, i); // ARM BL
    else if (kind === 1) data.writeUInt32BE((0x48000001 | ((x << 2) & 0x03fffffc)) >>> 0, i); // PowerPC bl
    else if (kind === 2) data.writeUInt32BE((0x40000000 | (x & 0x3fffff)) >>> 0, i); // SPARC call
    else if (kind === 3) data.writeUInt32LE((0xf800f000 | (x & 0x07ff07ff)) >>> 0, i); // Thumb BL pair
    else if (kind === 4) data.writeUInt32LE(0xe8 | ((x & 0xff) << 8), i); // x86 call
    else data.writeUInt32LE(x, i);
  }
  const xz = decompressorFor('xz');
  for (const filter of ['x86', 'powerpc', 'arm', 'armthumb', 'sparc']) {
    for (const start of ['', ',start=4096']) {
      const stream = execFileSync('xz', ['-c', '--check=crc32', `--${filter}${start ? `=${start.slice(1)}` : ''}`, '--lzma2=preset=6'], { input: data });
      const blocks = xzBlocks(stream);
      t.ok(blocks[0]?.bcj !== undefined, `${filter}${start}: stream uses a BCJ filter`);
      t.ok(xz(stream, size).equals(data), `${filter}${start}: decoded and unfiltered`);
    }
  }
  const ia64 = execFileSync('xz', ['-c', '--check=crc32', '--ia64', '--lzma2'], { input: data.subarray(0, 1000) });
  t.throws(() => xz(ia64, size), /not supported/, 'IA-64 is refused by name');
  t.end();
});

t.test('a zlib bomb stops at the limit', (t) => {
  const bomb = deflateSync(Buffer.alloc(64 << 20));
  t.ok(bomb.length < 100_000, `64 MiB of zeros deflate to ${bomb.length} bytes`);
  t.throws(() => decompressorFor('gzip')(bomb, 8192), DecompressError);
  t.end();
});

t.test('zstd, xz and lzma bombs stop at the limit, with or without a declared size', (t) => {
  const zeros = Buffer.alloc(32 << 20);
  const tool = (cmd: string, args: string[]): Buffer => execFileSync(cmd, args, { input: zeros, maxBuffer: 64 << 20 });
  const bombs: [CompressorName, string, Buffer][] = [
    ['zstd', 'zstd with content size', tool('zstd', ['-c', '-q'])],
    ['zstd', 'zstd without content size', tool('zstd', ['-c', '-q', '--no-content-size'])],
    ['xz', 'xz', tool('xz', ['-c', '--check=crc32'])],
  ];
  for (const [name, what, bomb] of bombs) {
    t.ok(bomb.length < 1 << 20, `${what}: 32 MiB of zeros in ${bomb.length} bytes`);
    t.throws(() => decompressorFor(name)(bomb, 1 << 20), DecompressError, `${what}: refused`);
  }
  // lzma "alone" with an unknown size (-1): mksquashfs always writes the size, so this is refused up front.
  const alone = tool('xz', ['-c', '--format=lzma']);
  t.throws(() => decompressorFor('lzma')(alone, 1 << 20), /declared size unknown/, 'lzma alone without a size');
  const sized = Buffer.from(alone);
  sized.writeUInt32LE(zeros.length, 5);
  sized.writeUInt32LE(0, 9);
  t.throws(() => decompressorFor('lzma')(sized, 1 << 20), /exceeds/, 'lzma alone declaring 32 MiB');
  t.end();
});

t.test('hand-made lz4 and lzo streams', (t) => {
  const lz4 = decompressorFor('lz4');
  // token 0x14: 1 literal 'a', then a match of 4+4 = 8 at distance 1 (overlapping copy), then 5 final literals
  const seq = Buffer.from([0x14, 0x61, 0x01, 0x00, 0x50, 0x62, 0x63, 0x64, 0x65, 0x66]);
  t.equal(lz4(seq, 100).toString('latin1'), 'a'.repeat(9) + 'bcdef');
  t.throws(() => lz4(seq, 10), DecompressError, 'output limit');
  t.throws(() => lz4(Buffer.from([0x14, 0x61, 0x02, 0x00, 0x50]), 100), /distance/, 'match before the start');
  const lzo = decompressorFor('lzo');
  // 0x11 + 3: first byte > 17 means 3 literals; then the end marker 0x11 0x00 0x00
  t.equal(lzo(Buffer.from([20, 0x61, 0x62, 0x63, 0x11, 0x00, 0x00]), 100).toString('latin1'), 'abc');
  t.throws(() => lzo(Buffer.from([20, 0x61, 0x62, 0x63, 0x11, 0x00]), 100), DecompressError, 'truncated end marker');
  t.throws(() => lzo(Buffer.from([20, 0x61, 0x62, 0x63, 0x11, 0x00, 0x00, 0x00]), 100), /not fully consumed/);
  t.end();
});
