import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FormatError } from '../src/errors.js';
import { openIso } from '../src/image/iso9660/index.js';
import { BufferSource } from '../src/image/source.js';
import { makeIso } from './helpers/iso-tools.js';

const SECTOR = 2048;
const PVD = 16 * SECTOR;

/** Opening `img` fails with a FormatError naming hostile.iso and exactly byte `at`. */
function rejectsAt(t: Test, img: Buffer, at: number, what: string): void {
  try {
    openIso(new BufferSource('hostile.iso', img));
    t.fail(`${what}: opened although the halves disagree`);
  } catch (err) {
    t.ok(err instanceof FormatError, `${what}: FormatError`);
    if (!(err instanceof FormatError)) return;
    t.equal(err.file, 'hostile.iso', `${what}: names the file`);
    t.equal(err.offset, at, `${what}: names the field's byte offset`);
    t.match(err.message, /both-endian field: little-endian half \d+, big-endian half \d+/, what);
  }
}

t.test('both-endian fields whose halves disagree are a FormatError at the field', (t) => {
  const dir = t.testdir();
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'sub/file.txt'), 'x'.repeat(5000));
  const iso = join(dir, 'good.iso');
  makeIso(src, iso);
  const good = readFileSync(iso);
  t.ok(openIso(new BufferSource('good.iso', good)).lookup('/sub/file.txt'), 'the image as written opens');

  // primary volume descriptor: volume space size (both-endian 32 at byte 80), logical block size (both-endian 16 at 128)
  let img = Buffer.from(good);
  img.writeUInt32BE(good.readUInt32BE(PVD + 84) + 1, PVD + 84);
  rejectsAt(t, img, PVD + 80, 'volume space size');
  img = Buffer.from(good);
  img.writeUInt16BE(4096, PVD + 130);
  rejectsAt(t, img, PVD + 128, 'logical block size');

  // the root directory record inside the descriptor: its extent location (byte 2 of the record)
  img = Buffer.from(good);
  img.writeUInt32BE(good.readUInt32BE(PVD + 156 + 6) ^ 0x10, PVD + 156 + 6);
  rejectsAt(t, img, PVD + 156 + 2, 'root extent location');

  // a directory record of the root directory: its data length (byte 10 of the record)
  const rootLba = good.readUInt32LE(PVD + 156 + 2);
  let at = rootLba * SECTOR;
  at += good[at]!; // "."
  at += good[at]!; // ".."
  t.equal(good.toString('latin1', at + 33, at + 33 + good[at + 32]!), 'SUB', 'the record after "." and ".." is SUB');
  img = Buffer.from(good);
  img.writeUInt32BE(0, at + 14);
  rejectsAt(t, img, at + 10, 'directory record data length');

  // the little-endian half alone changed: still a mismatch, reported at the same place
  img = Buffer.from(good);
  img.writeUInt32LE(good.readUInt32LE(at + 10) + SECTOR, at + 10);
  rejectsAt(t, img, at + 10, 'little-endian half changed');
  t.end();
});
