import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openImage } from '../src/image/open.js';
import { squashfsLayoutColumns } from '../src/image/squashfs/layout.js';
import { squashfsLayoutJson } from '../src/image/squashfs/layout-json.js';
import { fileBytes, makeSampleRoot } from './helpers/sample-tree.js';

// The bare squashfs's Layout JSON is written from the entry columns; it must be byte for byte
// what JSON.stringify gives for the Layout objects, and lookups through the columns must find
// exactly the entries the walk listed.
t.test('layoutJson from the columns equals JSON.stringify(layout); lookup finds every entry', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  makeSampleRoot(root);
  const odd = join(root, 'names');
  mkdirSync(odd, { recursive: true });
  // names JSON must escape, and non-ASCII ones
  for (const name of ['quote"d', 'back\\slash', 'tab\there', 'new\nline', 'caf\u00e9', '\u65e5\u672c', 'ctl\u0001x']) {
    writeFileSync(join(odd, name), fileBytes(name.length, 100 + name.length));
  }
  writeFileSync(join(odd, 'same-a'), fileBytes(7, 70_000));
  writeFileSync(join(odd, 'same-b'), fileBytes(7, 70_000));
  linkSync(join(odd, 'same-a'), join(odd, 'same-a-link'));
  symlinkSync('caf\u00e9', join(odd, 'link-to-"caf\u00e9"'));
  const sq = join(dir, 'fs.sqfs');
  execFileSync('mksquashfs', [root, sq, '-noappend', '-quiet', '-no-progress', '-b', '4096'], { stdio: 'ignore' });

  const fast = openImage(sq);
  t.ok(fast.layoutJson, 'a bare squashfs has a column writer');
  const text = Buffer.concat([...fast.layoutJson!()]).toString('utf8');
  const slow = openImage(sq);
  t.equal(text, JSON.stringify(slow.layout), 'same bytes as JSON.stringify of the Layout objects');
  // tiny buffers: rows, escaped names and UTF-8 land on every kind of buffer boundary
  const l = fast.layout;
  const head = { source: l.source, size: l.size, squashfsOffset: l.squashfsOffset, squashfsSize: l.squashfsSize, blockSize: l.blockSize, compressor: l.compressor };
  const cols = squashfsLayoutColumns(fast.squashfs!, 0);
  const pieces = [...squashfsLayoutJson(head, fast.squashfs!.table, cols.files, cols.extents, 64)];
  t.ok(pieces.length > 10, 'many pieces');
  t.equal(Buffer.concat(pieces).toString('utf8'), text, 'the same text in 64-byte buffers');
  // a consumer that hands each piece back once copied: the writer refills the same buffers
  const released: Uint8Array[] = [];
  const copies: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for (const piece of squashfsLayoutJson(head, fast.squashfs!.table, cols.files, cols.extents, 64, released)) {
    copies.push(Buffer.from(piece));
    buffers.add(piece.buffer);
    released.push(piece);
  }
  t.equal(Buffer.concat(copies).toString('utf8'), text, 'the same text with buffers reused');
  t.ok(buffers.size < copies.length / 2, `fewer buffers for ${copies.length} pieces (${buffers.size})`);
  t.ok(slow.layout.files.some((f) => f.sameDataAs !== undefined), 'the image has files sharing data');
  t.ok(slow.layout.tree!.links.some((l) => l.path.endsWith('link-to-"caf\u00e9"') && l.target === 'caf\u00e9'), 'symlink targets decoded');
  // once the files were built, the writer serializes them (a caller may have changed them)
  t.equal(Buffer.concat([...slow.layoutJson!()]).toString('utf8'), JSON.stringify(slow.layout), 'after the files are built: still the same');

  const sqi = slow.squashfs!;
  const entries = sqi.entries;
  t.equal(entries.length, sqi.table.length, 'one entry per row');
  let found = 0;
  for (const e of entries) if (sqi.lookup(e.path) === e) found++;
  t.equal(found, entries.length, 'lookup(path) gives back each entry');
  t.equal(sqi.lookup('/names//caf\u00e9'), undefined, 'an empty component finds nothing');
  t.equal(sqi.lookup('/names/caf\u00e9/x'), undefined, 'a file has no children');
  t.equal(sqi.lookup('names/caf\u00e9'), undefined, 'a relative path finds nothing');
  t.equal(sqi.lookup('/names/nope'), undefined);
  t.equal(sqi.lookup('/names/new\nline')?.type, 'file');
  fast.close();
  slow.close();
  t.end();
});
