import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { BootprofError, FormatError, UnsupportedError } from '../src/errors.js';
import { BufferSource } from '../src/image/source.js';
import { openSquashfs, readFile, squashfsLayout, type SquashfsImage } from '../src/image/squashfs/index.js';
import { makeSquashfsTree } from './helpers/squashfs-tree.js';
import { mksquashfs } from './helpers/squashfs-tools.js';

const dir = t.testdir();
const source = join(dir, 'src');
makeSquashfsTree(source, { special: true, xattrs: true, sparse: true });

function build(name: string, args: string[]): Buffer {
  const path = join(dir, name);
  mksquashfs(source, path, args);
  return readFileSync(path);
}
const gzip = build('gzip.sqfs', ['-comp', 'gzip', '-b', '4K']);
// Uncompressed metadata and data: a patch to a table changes exactly the bytes the reader sees.
const plain = build('plain.sqfs', ['-noI', '-noD', '-noF', '-noX']);

/** Open, lay out and read every file: what `inspect` and `cat` do with an image. */
function useFully(bytes: Buffer, name = 'hostile.sqfs'): SquashfsImage {
  const img = openSquashfs(new BufferSource(name, bytes));
  squashfsLayout(img, 0);
  for (const e of img.entries) if (e.type === 'file') readFile(img, e);
  return img;
}

function expectFormatError(t: Test, bytes: Buffer, what: string, check?: (err: FormatError) => void): void {
  try {
    useFully(bytes);
    t.fail(`${what}: accepted`);
  } catch (err) {
    if (!(err instanceof FormatError)) {
      t.fail(`${what}: threw ${(err as Error).name}: ${(err as Error).message}`);
      return;
    }
    t.equal(err.file, 'hostile.sqfs', `${what}: error names the file`);
    t.type(err.offset, 'number', `${what}: error names an offset (${err.message})`);
    check?.(err);
  }
}

const patched = (base: Buffer, edits: (b: Buffer) => void): Buffer => {
  const b = Buffer.from(base);
  edits(b);
  return b;
};

t.test('the unpatched images are read', (t) => {
  t.ok(useFully(gzip).entries.length > 20);
  t.ok(useFully(plain).entries.length > 20);
  t.end();
});

t.test('bad magic, version, block size, compressor', (t) => {
  expectFormatError(t, patched(gzip, (b) => b.writeUInt32LE(0x12345678, 0)), 'bad magic', (e) => t.equal(e.offset, 0));
  expectFormatError(t, Buffer.alloc(50), 'shorter than a superblock');
  t.throws(() => useFully(patched(gzip, (b) => b.writeUInt16LE(5, 28))), UnsupportedError, 'squashfs 5.0 is unsupported');
  expectFormatError(t, patched(gzip, (b) => b.writeUInt32LE(3000, 12)), 'block size not a power of two', (e) => t.equal(e.offset, 12));
  expectFormatError(t, patched(gzip, (b) => b.writeUInt16LE(13, 22)), 'block_log mismatch', (e) => t.equal(e.offset, 22));
  expectFormatError(t, patched(gzip, (b) => b.writeUInt16LE(9, 20)), 'unknown compressor', (e) => t.equal(e.offset, 20));
  t.end();
});

t.test('truncated at every table, with and without a matching bytes_used', (t) => {
  for (const [label, image] of [['gzip', gzip], ['plain', plain]] as const) {
    const img = openSquashfs(new BufferSource(label, image));
    const cuts = new Set<number>();
    for (const r of img.regions) for (const c of [r.start, r.start + 1, (r.start + r.end) >> 1, r.end - 1]) if (c > 0 && c < img.superblock.bytesUsed) cuts.add(c);
    for (const e of img.entries) for (const b of e.blocks ?? []) if (!b.sparse) cuts.add(b.offset + 1);
    let n = 0;
    for (const cut of [...cuts].sort((a, b) => a - b)) {
      const short = image.subarray(0, cut);
      expectFormatError(t, short, `${label} cut at ${cut}`, (e) => (cut >= 96 ? t.equal(e.offset, 40, 'bytes_used past the end') : t.equal(e.offset, 0)));
      if (cut >= 96) {
        // Claim the short image is complete: the reader must still find the missing tables.
        const lying = patched(short, (b) => b.writeBigUInt64LE(BigInt(cut), 40));
        try {
          useFully(lying);
          // Cutting inside the padding or the last bytes of an index can only be caught when read.
          t.ok(cut >= img.superblock.bytesUsed, `${label} cut at ${cut} with bytes_used patched: accepted`);
        } catch (err) {
          t.ok(err instanceof FormatError && typeof err.offset === 'number', `${label} cut at ${cut}, bytes_used patched: ${(err as Error).message}`);
        }
      }
      n++;
    }
    t.ok(n > 20, `${n} cuts of ${label}`);
  }
  t.end();
});

t.test('counts and offsets past the end', (t) => {
  const sb = openSquashfs(new BufferSource('x', gzip)).superblock;
  const cases: [string, (b: Buffer) => void][] = [
    ['fragment count 2^32-1', (b) => b.writeUInt32LE(0xffffffff, 16)],
    ['fragment count +1000', (b) => b.writeUInt32LE(sb.fragments + 1000, 16)],
    ['id count 65535', (b) => b.writeUInt16LE(0xffff, 26)],
    ['id count 0', (b) => b.writeUInt16LE(0, 26)],
    ['inode count 2^32-1', (b) => b.writeUInt32LE(0xffffffff, 4)],
    ['bytes_used 2^60', (b) => b.writeBigUInt64LE(1n << 60n, 40)],
    ['inode table start past bytes_used', (b) => b.writeBigUInt64LE(BigInt(sb.bytesUsed + 10), 64)],
    ['directory table before inode table', (b) => b.writeBigUInt64LE(BigInt(sb.inodeTableStart - 1), 72)],
    ['id table start 0', (b) => b.writeBigUInt64LE(0n, 48)],
    ['fragment table start past the end', (b) => b.writeBigUInt64LE(BigInt(sb.bytesUsed + 1), 80)],
    ['export table start past the end', (b) => b.writeBigUInt64LE(BigInt(sb.bytesUsed + 1), 88)],
    ['xattr id table start 2^63', (b) => b.writeBigUInt64LE(1n << 63n, 56)],
    ['root inode in a block that does not exist', (b) => b.writeBigUInt64LE(0x7fff0000n, 32)],
    ['root inode offset past its block', (b) => b.writeBigUInt64LE(BigInt(Math.floor(sb.rootInode / 65536) * 65536 + 8191), 32)],
    ['xattr id count 2^32-1', (b) => b.writeUInt32LE(0xffffffff, sb.xattrIdTableStart + 8)],
    ['fragment table index entry past the end', (b) => b.writeBigUInt64LE(1n << 40n, sb.fragmentTableStart)],
    ['id table index points at itself', (b) => b.writeBigUInt64LE(BigInt(sb.idTableStart), sb.idTableStart)],
  ];
  for (const [what, edit] of cases) expectFormatError(t, patched(gzip, edit), what);
  t.end();
});

/** Position on disk of a directory entry's fields in the uncompressed image: found by its name. */
function findDirEntry(image: Buffer, img: SquashfsImage, name: string): number {
  const start = img.superblock.directoryTableStart;
  const needle = Buffer.from(name);
  const at = image.indexOf(needle, start);
  if (at < 0 || at > img.superblock.bytesUsed) throw new Error(`entry ${name} not found`);
  return at - 8;
}

t.test('a directory that points to itself or to its parent', (t) => {
  const img = openSquashfs(new BufferSource('plain', plain));
  const deep = img.lookup('/deep')!;
  // Entries only store the offset inside the inode block named by their run's header; the tree is
  // small enough for every inode to sit in the first inode block (checked here).
  t.ok(img.superblock.rootInode < 65536 && deep.inodeTableOffset < 8192, 'all inodes in the first block');
  const rootOffset = img.superblock.rootInode & 0xffff;
  expectFormatError(t, patched(plain, (b) => b.writeUInt16LE(rootOffset, findDirEntry(plain, img, 'deep'))), '/deep -> /', (e) => t.match(e.message, /reached twice/));
  // In /deep's listing the entry "a" (8 bytes + 1 name byte) comes right before "hardlink-131073":
  // make it point at /deep itself.
  const entryA = findDirEntry(plain, img, 'hardlink-131073') - 9;
  t.equal(plain.toString('latin1', entryA + 8, entryA + 9), 'a', 'found the entry of /deep/a');
  expectFormatError(t, patched(plain, (b) => b.writeUInt16LE(deep.inodeTableOffset, entryA)), '/deep/a -> /deep', (e) => t.match(e.message, /reached twice/));
  // Type confusion: the entry says directory, the inode is a regular file.
  const leaf = img.lookup('/deep/hardlink-131073')!;
  expectFormatError(t, patched(plain, (b) => b.writeUInt16LE(leaf.inodeTableOffset, entryA)), '/deep/a -> a file', (e) => t.match(e.message, /says inode type 1/));
  t.end();
});

t.test('metadata block headers with impossible sizes', (t) => {
  const sb = openSquashfs(new BufferSource('x', gzip)).superblock;
  expectFormatError(t, patched(gzip, (b) => b.writeUInt16LE(0, sb.inodeTableStart)), 'zero-size inode block', (e) => t.equal(e.offset, sb.inodeTableStart));
  expectFormatError(t, patched(gzip, (b) => b.writeUInt16LE(0x7fff, sb.inodeTableStart)), 'inode block over 8 KiB', (e) => t.equal(e.offset, sb.inodeTableStart));
  expectFormatError(t, patched(gzip, (b) => b.writeUInt16LE(0x8000 | 8000, sb.directoryTableStart)), 'stored block that runs past its table');
  t.end();
});

t.test('random corruption never escapes as anything but a typed error, in bounded time', (t) => {
  const others = ['xz', 'lzo', 'lz4', 'zstd'].map((c) => [c, build(`${c}.sqfs`, ['-comp', c, '-b', '4K']), 80] as const);
  for (const [label, image, rounds] of [['plain', plain, 300], ['gzip', gzip, 200], ...others] as const) {
    const sb = openSquashfs(new BufferSource(label, image)).superblock;
    let x = 12345;
    const rand = (n: number): number => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    let typed = 0;
    let accepted = 0;
    const untyped: string[] = [];
    for (let i = 0; i < rounds; i++) {
      const b = Buffer.from(image);
      const flips = 1 + rand(4);
      for (let k = 0; k < flips; k++) {
        // Mostly the metadata (inode table to the end), sometimes the superblock or the data.
        const region = rand(10);
        const at = region === 0 ? rand(96) : region === 1 ? 96 + rand(sb.inodeTableStart - 96) : sb.inodeTableStart + rand(sb.bytesUsed - sb.inodeTableStart);
        b[at] = b[at]! ^ (1 << rand(8));
      }
      try {
        useFully(b);
        accepted++;
      } catch (err) {
        if (err instanceof BootprofError) typed++;
        else untyped.push(`${(err as Error).name}: ${(err as Error).message}`);
      }
    }
    t.same(untyped.slice(0, 5), [], `${label}: ${typed} typed errors, ${accepted} accepted, none untyped`);
    t.ok(typed > rounds / 4, `${label}: corruption is detected (${typed}/${rounds})`);
  }
  t.end();
});
