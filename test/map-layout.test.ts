import t from 'tap';
import type { Extent, Layout } from '../src/image/layout.js';
import { blockEventsToFileEvents, buildFileProfile, chooseDeviceCoordinates, mapTrace, parseDeviceOverride } from '../src/map/index.js';
import { formatProfileTsv, parseProfile, parseProfileRows } from '../src/trace/map-output-format.js';
import { parseTrace } from '../src/trace/parse-whole.js';
import type { BlockEvent, FileEvent, Trace, TraceEvent } from '../src/trace/types.js';
import { syntheticLayout, syntheticTree } from './helpers/synthetic-layout.js';

/**
 * A live-CD Layout by hand: ISO structures, a file on the ISO, then the squashfs at 67584 with
 *   /usr/bin/a    300000 bytes: 3 blocks, no fragment
 *   /usr/lib/b.so 140000 bytes: 1 block + tail in fragment 0
 *   /etc/c.conf      500 bytes: all in fragment 0 (shared with b.so)
 *   /usr/lib/b2.so  same data as b.so
 */
const SQ = 67584;
const BS = 131072;
function liveLayout(): Layout {
  const extents: Extent[] = [
    { start: 0, length: 32768, kind: 'iso-system-area' },
    { start: 32768, length: 4096, kind: 'iso-volume-descriptor' },
    { start: 36864, length: 2048, kind: 'iso-directory' },
    { start: 40960, length: 5000, kind: 'iso-file', file: 4 },
    // 45960..67584: nothing (padding)
    { start: SQ, length: 96, kind: 'superblock' },
    { start: SQ + 96, length: 50000, kind: 'data-block', file: 0, block: 0 },
    { start: SQ + 50096, length: 60000, kind: 'data-block', file: 0, block: 1 },
    { start: SQ + 110096, length: 20000, kind: 'data-block', file: 0, block: 2 },
    { start: SQ + 130096, length: 40000, kind: 'data-block', file: 1, block: 0 },
    { start: SQ + 170096, length: 3000, kind: 'fragment-block', files: [1, 2], fragment: 0 },
    { start: SQ + 173096, length: 4000, kind: 'inode-table' },
    { start: SQ + 177096, length: 2000, kind: 'directory-table' },
    { start: SQ + 179096, length: 16, kind: 'fragment-table' },
    { start: SQ + 179112, length: 8, kind: 'id-table' },
  ];
  return {
    source: 'live.iso',
    size: SQ + 179120 + 4096,
    squashfsOffset: SQ,
    squashfsSize: 179120,
    blockSize: BS,
    compressor: 'gzip',
    files: [
      { path: '/usr/bin/a', layer: 'squashfs', size: 300000, inode: 10 },
      { path: '/usr/lib/b.so', layer: 'squashfs', size: 140000, inode: 11 },
      { path: '/etc/c.conf', layer: 'squashfs', size: 500, inode: 12 },
      { path: '/usr/lib/b2.so', layer: 'squashfs', size: 140000, inode: 13, sameDataAs: 1 },
      { path: '/isolinux/vmlinuz', layer: 'iso', size: 5000 },
    ],
    extents,
  };
}

const block = (seq: number, device: string, offset: number, length: number, extra: Partial<BlockEvent> = {}): BlockEvent => ({
  kind: 'block',
  seq,
  device,
  offset,
  length,
  timeNs: seq * 1000,
  ...extra,
});
const trace = (events: TraceEvent[], extra: Partial<Trace> = {}): Trace => ({ source: 't', format: 'qemu', events, ...extra });

t.test('block reads in image coordinates become reads of the covered part of each file', async (t) => {
  const layout = liveLayout();
  const mapped = mapTrace(
    trace([
      block(0, 'cd', SQ + 60000, 70096), // the end of a's block 1, all of block 2
      block(1, 'cd', SQ + 50096, 9904), // the start of block 1: now it is whole
      block(2, 'cd', SQ + 170096, 3000), // the fragment block: b.so's tail and c.conf
      block(3, 'cd', 41000, 2048), // the kernel on the ISO, bytes 40..2088
      block(4, 'cd', SQ + 130096, 1000), // a sliver of b.so's block 0, never completed
    ]),
    layout,
  );
  t.same(
    mapped.fileEvents.map((e) => [e.seq, e.path, e.offset, e.length]),
    [
      [0, '/usr/bin/a', 2 * BS, 300000 - 2 * BS],
      [1, '/usr/bin/a', BS, BS],
      [2, '/usr/lib/b.so', BS, 140000 - BS],
      [2, '/etc/c.conf', 0, 500],
      [3, '/isolinux/vmlinuz', 40, 2048],
    ],
    'a block counts at the read that completes it; one never completed is no access',
  );
  t.ok(mapped.fileEvents.every((e) => e.kind === 'read' && e.timeNs === e.seq * 1000));
  t.same([mapped.stats.incompleteBlocks, mapped.stats.unmappedBytes], [1, 1000]);
  const unmappedRow = buildFileProfile([mapped]).rows.find((r) => r.kind === 'unmapped')!;
  t.same([unmappedRow.firstSeq, unmappedRow.deviceBytes], [4, 1000]);
  const a = buildFileProfile([mapped]).rows.find((r) => r.path === '/usr/bin/a')!;
  t.same([a.blocks, a.deviceBytes, a.reads, a.firstSeq], [2, 70096 + 9904, 2, 0], 'bytes of both partial reads go to the block');
  t.same(
    blockEventsToFileEvents(trace([block(0, 'cd', SQ + 96, 50000)]), layout).map((e) => [e.path, e.offset, e.length]),
    [['/usr/bin/a', 0, BS]],
  );
  // a block read twice whole counts twice
  const twice = buildFileProfile([mapTrace(trace([block(0, 'cd', SQ + 96, 50000), block(1, 'cd', SQ + 96, 50000)]), layout)]);
  t.equal(twice.rows[0]!.reads, 2);
});

t.test('metadata, gaps and reads past the end', async (t) => {
  const layout = liveLayout();
  const mapped = mapTrace(
    trace([
      block(0, 'cd', SQ + 173096 + 100, 4096), // inode table 3900 bytes + directory table 196
      block(1, 'cd', 45000, 4096), // iso-file 960 bytes, then 3136 bytes of padding
      block(2, 'cd', layout.size - 1000, 4096), // 1000 bytes of the last gap, 3096 past the end
    ]),
    layout,
  );
  t.same(mapped.stats.metadataBytes, 3900 + 196);
  t.same(mapped.stats.mappedBytes, 960);
  t.same(mapped.stats.unmappedBytes, 3136 + 4096);
  const profile = buildFileProfile([mapped]);
  const meta = profile.rows.filter((r) => r.kind === 'metadata');
  t.same(
    meta.map((r) => [r.path, r.deviceBytes, r.reads, r.firstSeq]),
    [
      ['inode-table', 3900, 1, 0],
      ['directory-table', 196, 1, 0],
    ],
  );
  const unmapped = profile.rows.find((r) => r.kind === 'unmapped')!;
  t.same([unmapped.reads, unmapped.deviceBytes, unmapped.firstSeq], [2, 3136 + 4096, 1]);
});

t.test('squashfs offsets (module sqread) get layout.squashfsOffset added; length 0 is a metadata block', async (t) => {
  const layout = liveLayout();
  const mapped = mapTrace(
    {
      source: 'events.tsv',
      format: 'bootprof-events',
      events: [
        block(0, '7:0', 173096 + 10, 0, { squashfsOffset: true }),
        block(1, '7:0', 50096, 60000, { squashfsOffset: true }),
      ],
      devices: [{ id: '7:0', kind: 'squashfs', description: '' }],
    },
    layout,
  );
  t.same(mapped.devices.map((d) => [d.id, d.coordinates]), [['7:0', 'squashfs']]);
  t.same(mapped.fileEvents.map((e) => [e.path, e.offset, e.length]), [['/usr/bin/a', BS, BS]]);
  const rows = buildFileProfile([mapped]).rows;
  t.same(
    rows.map((r) => [r.kind, r.path, r.reads, r.deviceBytes]),
    [
      ['file', '/usr/bin/a', 1, 60000],
      ['metadata', 'inode-table', 1, 0],
    ],
  );
});

t.test('inode-only events resolve on the squashfs device only', async (t) => {
  const layout = liveLayout();
  const fault = (seq: number, dev: string, ino: number): FileEvent => ({ kind: 'fault', seq, path: '', dev, ino, offset: 0, length: 4096 });
  // the trace shows 7:0 is the squashfs: an event with path and inode that agree with the image
  const learned = mapTrace(
    trace([
      { kind: 'open', seq: 0, path: '/usr/lib/b.so', dev: '7:0', ino: 11 },
      fault(1, '7:0', 12),
      fault(2, '0:25', 12),
      fault(3, '7:0', 999),
    ]),
    layout,
  );
  t.same(learned.fileEvents.map((e) => [e.seq, e.path]), [
    [0, '/usr/lib/b.so'],
    [1, '/etc/c.conf'],
  ]);
  t.same([learned.stats.resolvedInodeEvents, learned.stats.unresolvedInodeEvents], [1, 2]);
  t.same(learned.inodeDevices, ['7:0']);
  // an event whose path disagrees with the image's inode votes its device out
  const wrong = mapTrace(trace([{ kind: 'open', seq: 0, path: '/tmp/x', dev: '7:0', ino: 11 }, fault(1, '7:0', 12)]), layout);
  t.same(wrong.fileEvents.map((e) => e.path), ['/tmp/x']);
  // nothing to learn from: loop devices are taken as the squashfs
  const fallback = mapTrace(trace([fault(0, '7:0', 10), fault(1, '8:1', 10)]), layout);
  t.same(fallback.fileEvents.map((e) => e.path), ['/usr/bin/a']);
  // named by the caller
  const named = mapTrace(trace([fault(0, '8:1', 10)]), layout, { squashfsDevices: ['8,1'] });
  t.same(named.fileEvents.map((e) => e.path), ['/usr/bin/a']);
  // fault ranges past the end of the file are clipped in the profile
  const rows = buildFileProfile([mapTrace(trace([fault(0, '7:0', 12)]), layout)]).rows;
  t.same(rows[0]!.ranges, [[0, 500]]);
});

t.test('device coordinates: defaults, redundancy and overrides', async (t) => {
  const layout = liveLayout();
  const both: Trace = {
    source: 'blkparse.txt',
    format: 'blkparse',
    events: [block(0, '7,0', 50096, 60000), block(1, '11,0', SQ + 49152, 65536)],
    devices: [
      { id: '7,0', kind: 'loop', description: '' },
      { id: '11,0', kind: 'cdrom', description: '' },
    ],
  };
  const choices = chooseDeviceCoordinates(both, layout);
  t.equal(choices.get('7,0')!.coordinates, 'squashfs');
  t.equal(choices.get('11,0')!.coordinates, 'skip', 'the drive is not counted on top of the loop device');
  t.match(choices.get('11,0')!.reason, /already count/);
  const mapped = mapTrace(both, layout);
  t.same(mapped.stats.skippedBlockEvents, 1);
  t.same(mapped.fileEvents.map((e) => e.path), ['/usr/bin/a']);

  const forced = chooseDeviceCoordinates(both, layout, new Map([parseDeviceOverride('11:0=image'), parseDeviceOverride('7,0=skip')]));
  t.same([forced.get('11,0')!.coordinates, forced.get('7,0')!.coordinates], ['image', 'skip']);
  t.throws(() => parseDeviceOverride('11,0=iso'), /ID=image, ID=squashfs or ID=skip/);

  const qemu: Trace = {
    source: 'q.log',
    format: 'qemu',
    events: [block(0, 'blk@1', 0, 4096), block(1, 'blk@2', SQ, 4096), block(2, 'blk@2', SQ + 4096, 4096), block(3, 'blk@1', 8192, 65536)],
    devices: [
      { id: 'blk@1', kind: 'unknown', description: '' },
      { id: 'blk@2', kind: 'cdrom', description: '' },
    ],
  };
  const q = chooseDeviceCoordinates(qemu, layout);
  t.same([q.get('blk@1')!.coordinates, q.get('blk@2')!.coordinates], ['skip', 'image'], 'the CD drive wins over a bigger disk');
  qemu.devices = undefined;
  const q2 = chooseDeviceCoordinates(qemu, layout);
  t.same([q2.get('blk@1')!.coordinates, q2.get('blk@2')!.coordinates], ['image', 'skip'], 'else the device with most bytes');
  const noSquashfs = { ...layout, squashfsOffset: undefined };
  t.equal(chooseDeviceCoordinates(both, noSquashfs).get('7,0')!.coordinates, 'skip');
});

t.test('the file-level profile', async (t) => {
  const layout = liveLayout();
  const first = mapTrace(
    trace([
      block(0, 'cd', SQ + 96, 50000), // a block 0
      block(1, 'cd', SQ + 170096, 3000), // fragment: b.so tail + c.conf
      block(2, 'cd', SQ + 96, 110000), // a blocks 0-1 again
      block(3, 'cd', SQ + 173096, 4000), // inode table
    ]),
    layout,
  );
  const second = mapTrace(trace([{ kind: 'open', seq: 0, path: '/etc/other', timeNs: 5 }, block(1, 'cd', SQ + 130096, 40000)]), layout);
  const profile = buildFileProfile([first, second]);
  const files = profile.rows.filter((r) => r.kind === 'file');
  t.same(
    files.map((r) => [r.order, r.path, r.firstSeq, r.reads, r.blocks, r.fragmentBlocks, r.sharedWith, r.deviceBytes, r.fileBytes, r.via.join()]),
    [
      [0, '/usr/bin/a', 0, 2, 2, 0, 0, 50000 + 110000, 2 * BS, 'block'],
      [1, '/usr/lib/b.so', 1, 2, 1, 1, 1, 1500 + 40000, 140000, 'block'],
      [2, '/etc/c.conf', 1, 1, 0, 1, 1, 1500, 500, 'block'],
      [3, '/etc/other', 4, 1, 0, 0, 0, 0, 0, 'open'],
    ],
    'first-access order across traces; a 2nd trace\'s seq continues after the 1st',
  );
  const total = profile.rows.reduce((n, r) => n + r.deviceBytes, 0);
  t.equal(total, 50000 + 3000 + 110000 + 4000 + 40000, 'per-row device bytes add up to what was read');
  t.equal(profile.metadataReads, 1);

  // TSV round trip, and the profile read back as a trace
  const tsv = formatProfileTsv(profile.rows);
  t.match(tsv, /^#bootprof-profile v1\torder\tkind\t/);
  t.same(parseProfileRows(Buffer.from(tsv), 'p.tsv'), profile.rows);
  const back = parseTrace(Buffer.from(tsv), 'p.tsv');
  t.equal(back.format, 'bootprof-profile');
  t.same(
    (back.events as FileEvent[]).map((e) => [e.kind, e.path, e.offset, e.length]),
    [
      ['read', '/usr/bin/a', 0, 2 * BS],
      ['read', '/usr/lib/b.so', 0, 140000],
      ['read', '/etc/c.conf', 0, 500],
      ['open', '/etc/other', undefined, undefined],
    ],
  );
  const odd = formatProfileTsv([{ ...profile.rows[0]!, path: '/a\tb\nc\\d' }]);
  t.equal(parseProfileRows(Buffer.from(odd), 'o.tsv')[0]!.path, '/a\tb\nc\\d', 'paths are escaped');
  const garbled = tsv.replace('\tblock\t', '\tblick\t');
  t.throws(() => parseProfile(Buffer.from(garbled), 'g.tsv'), /g\.tsv at byte \d+: line 2: bad via "blick"/);
  t.throws(() => parseProfile(Buffer.from(tsv.slice(0, -3)), 'c.tsv'), /c\.tsv at byte \d+: line \d+: /);
});

t.test('random reads agree with a byte-by-byte reference', async (t) => {
  const layout = syntheticLayout(syntheticTree(6, 40), { blockSize: 8192, base: 67584 });
  layout.size += 10000;
  // reference: owner of every byte by linear scan
  const owner = (pos: number): Extent | undefined => layout.extents.find((e) => pos >= e.start && pos < e.start + e.length);
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const events: BlockEvent[] = [];
  for (let i = 0; i < 200; i++) events.push(block(i, 'cd', rand(layout.size + 5000), 1 + rand(12000)));
  // the reference names every owner of every block: the mechanics, without the evidence rule (map-evidence.test.ts)
  const mapped = mapTrace(trace(events), layout, { owners: 'all' });
  let mappedBytes = 0;
  let metadataBytes = 0;
  let unmappedBytes = 0;
  for (const e of events) {
    for (let pos = e.offset; pos < e.offset + e.length; pos++) {
      const ext = owner(pos);
      if (ext === undefined) unmappedBytes++;
      else if (ext.kind === 'data-block' || ext.kind === 'fragment-block') mappedBytes++;
      else metadataBytes++;
    }
  }
  // a block belongs to the read that completes it; bytes of blocks never completed are unmapped
  let incompleteBytes = 0;
  const filesPerEvent = new Map<number, Set<string>>();
  const attribute = (seq: number, ext: Extent): void => {
    if (!filesPerEvent.has(seq)) filesPerEvent.set(seq, new Set());
    for (const f of ext.file !== undefined ? [ext.file] : ext.files!) filesPerEvent.get(seq)!.add(layout.files[f]!.path);
  };
  for (const ext of layout.extents) {
    if (ext.kind !== 'data-block' && ext.kind !== 'fragment-block') continue;
    let seen = new Uint8Array(ext.length);
    let missing = ext.length;
    let firstPartial = -1;
    let pendingBytes = 0;
    for (const e of events) {
      const from = Math.max(e.offset, ext.start);
      const to = Math.min(e.offset + e.length, ext.start + ext.length);
      if (to <= from) continue;
      if (firstPartial < 0) firstPartial = e.seq;
      pendingBytes += to - from;
      for (let pos = from; pos < to; pos++) {
        if (seen[pos - ext.start] === 0) {
          seen[pos - ext.start] = 1;
          missing--;
        }
      }
      if (missing === 0) {
        attribute(e.seq, ext);
        seen = new Uint8Array(ext.length);
        missing = ext.length;
        firstPartial = -1;
        pendingBytes = 0;
      }
    }
    // the device read these bytes (twice, if two reads overlapped), for no file
    if (firstPartial >= 0) incompleteBytes += pendingBytes;
  }
  t.ok(incompleteBytes > 0, 'some blocks are left incomplete');
  t.same(
    [mapped.stats.mappedBytes, mapped.stats.metadataBytes, mapped.stats.unmappedBytes],
    [mappedBytes - incompleteBytes, metadataBytes, unmappedBytes + incompleteBytes],
  );
  const got = new Map<number, Set<string>>();
  for (const e of mapped.fileEvents) {
    if (!got.has(e.seq)) got.set(e.seq, new Set());
    got.get(e.seq)!.add(e.path);
  }
  t.same([...got.keys()].sort((x, y) => x - y), [...filesPerEvent.keys()].sort((x, y) => x - y), 'the same reads name files');
  for (const [seq, names] of filesPerEvent) t.same([...(got.get(seq) ?? [])].sort(), [...names].sort(), `read ${seq}`);
});
