import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FormatError } from '../src/errors.js';
import { BufferSource } from '../src/image/source.js';
import { openIso, isoLayout } from '../src/image/iso9660/index.js';
import { makeIso } from './helpers/iso-tools.js';

const SECTOR = 2048;

/** A small real image: Rock Ridge (with a long name, so a CE area), Joliet, two directories. */
function baseImage(dir: string): Buffer {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub/inner'), { recursive: true });
  writeFileSync(join(src, 'sub/inner/file.txt'), 'inner\n');
  writeFileSync(join(src, 'top.txt'), 'top\n'.repeat(1000));
  writeFileSync(join(src, 'sub', 'N'.repeat(230)), 'long\n');
  const iso = join(dir, 'base.iso');
  makeIso(src, iso, ['-joliet', 'on']);
  return readFileSync(iso);
}

interface Rec {
  at: number;
  len: number;
  lba: number;
  size: number;
  flags: number;
  name: Buffer;
}

function records(img: Buffer, lba: number, size: number): Rec[] {
  const out: Rec[] = [];
  const base = lba * SECTOR;
  for (let pos = 0; pos < size; ) {
    const len = img[base + pos]!;
    if (len === 0) {
      pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
      continue;
    }
    const at = base + pos;
    out.push({ at, len, lba: img.readUInt32LE(at + 2), size: img.readUInt32LE(at + 10), flags: img[at + 25]!, name: img.subarray(at + 33, at + 33 + img[at + 32]!) });
    pos += len;
  }
  return out;
}

function rootDir(img: Buffer): { lba: number; size: number } {
  const pvd = 16 * SECTOR;
  return { lba: img.readUInt32LE(pvd + 156 + 2), size: img.readUInt32LE(pvd + 156 + 10) };
}

function setBoth32(img: Buffer, at: number, v: number): void {
  img.writeUInt32LE(v, at);
  img.writeUInt32BE(v, at + 4);
}

function subdir(img: Buffer): Rec {
  const root = rootDir(img);
  return records(img, root.lba, root.size).find((r) => r.flags & 2 && r.name.length > 1)!;
}

function expectFormatError(t: Test, img: Buffer, what: string, match?: RegExp): void {
  try {
    const iso = openIso(new BufferSource('hostile.iso', img));
    isoLayout(iso);
    t.fail(`${what}: opened without error`);
  } catch (err) {
    t.ok(err instanceof FormatError, `${what}: FormatError (${(err as Error).message})`);
    if (err instanceof FormatError) t.type(err.offset, 'number', `${what}: names an offset`);
    if (match) t.match((err as Error).message, match, what);
  }
}

t.test('hostile ISO images end in FormatError with an offset', (t) => {
  const good = baseImage(t.testdir());
  t.ok(openIso(new BufferSource('good.iso', good)).lookup(`/sub/${'N'.repeat(230)}`), 'the base image opens, with its long name');

  for (const cut of [0, 100, 16 * SECTOR + 10, 17 * SECTOR, 18 * SECTOR + 5]) {
    expectFormatError(t, good.subarray(0, cut), `truncated at ${cut}`);
  }
  const root = rootDir(good);
  expectFormatError(t, good.subarray(0, root.lba * SECTOR + 100), 'truncated inside the root directory');
  const top = records(good, root.lba, root.size).find((r) => r.name.toString('latin1').startsWith('TOP'))!;
  expectFormatError(t, good.subarray(0, top.lba * SECTOR + 10), 'truncated inside a file', /past the end/);

  let img = Buffer.from(good);
  img.write('CD002', 16 * SECTOR + 1, 'latin1');
  expectFormatError(t, img, 'bad magic', /CD001/);

  img = Buffer.from(good);
  for (let s = 17; s < 24; s++) if (img[s * SECTOR] === 255) img[s * SECTOR] = 3; // terminator becomes a partition descriptor
  expectFormatError(t, img, 'no terminator');

  img = Buffer.from(good);
  const sub = subdir(img);
  setBoth32(img, sub.at + 2, root.lba);
  expectFormatError(t, img, 'directory pointing to its parent', /loop/);

  img = Buffer.from(good);
  const inner = records(img, sub.lba, sub.size).find((r) => r.flags & 2 && r.name.length > 1)!;
  setBoth32(img, inner.at + 2, sub.lba);
  expectFormatError(t, img, 'directory pointing to itself', /loop/);

  img = Buffer.from(good);
  img[sub.at] = 20;
  expectFormatError(t, img, 'record length below 34', /record length/);

  img = Buffer.from(good);
  setBoth32(img, sub.at + 10, 0xfffff000);
  expectFormatError(t, img, 'huge directory size');

  img = Buffer.from(good);
  img[sub.at + 32] = 250; // name length past the record
  expectFormatError(t, img, 'identifier longer than its record', /identifier/);

  t.end();
});

t.test('Rock Ridge continuation loops and bad entry lengths', (t) => {
  const good = baseImage(t.testdir());
  const sub = subdir(good);
  const long = records(good, sub.lba, sub.size).find((r) => good.indexOf('CE', r.at, 'latin1') > 0 && good.indexOf('CE', r.at, 'latin1') < r.at + r.len)!;
  t.ok(long, 'the long name needs a CE continuation area');
  const ceAt = good.indexOf('CE', long.at, 'latin1');
  const block = good.readUInt32LE(ceAt + 4);
  const offset = good.readUInt32LE(ceAt + 12);
  const size = good.readUInt32LE(ceAt + 20);
  // Make the continuation area start with a CE pointing back at itself.
  const img = Buffer.from(good);
  const area = block * SECTOR + offset;
  img.write('CE', area, 'latin1');
  img[area + 2] = 28;
  img[area + 3] = 1;
  setBoth32(img, area + 4, block);
  setBoth32(img, area + 12, offset);
  setBoth32(img, area + 20, size);
  img.fill(0, area + 28, area + size);
  expectFormatError(t, img, 'CE loop', /continuation/);

  const img2 = Buffer.from(good);
  img2[ceAt + 2] = 2; // entry length below the 4-byte header
  expectFormatError(t, img2, 'System Use entry with length 2', /bad length/);

  const img3 = Buffer.from(good);
  setBoth32(img3, ceAt + 4, 0x7fffffff);
  expectFormatError(t, img3, 'CE past the end', /past the end/);
  t.end();
});
