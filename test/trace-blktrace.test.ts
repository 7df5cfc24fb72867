import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseBlktrace } from '../src/trace/blktrace.js';
import { mergeBlktraceCpus } from '../src/trace/merge-cpus.js';
import { readTrace } from '../src/trace/read.js';
import { parseTrace } from '../src/trace/parse-whole.js';
import type { BlockEvent } from '../src/trace/types.js';
import { formatErrorOf, traceFixture as fixture } from './helpers/trace-samples.js';

const blocks = (events: readonly unknown[]): BlockEvent[] => events as BlockEvent[];

/** struct blk_io_trace (include/uapi/linux/blktrace_api.h), written field by field. */
interface Rec {
  sequence: number;
  time: bigint;
  sector: bigint;
  bytes: number;
  action: number;
  pid: number;
  device: number;
  cpu: number;
  pdu?: Buffer;
}
function record(r: Rec, endian: 'le' | 'be' = 'le'): Buffer {
  const pdu = r.pdu ?? Buffer.alloc(0);
  const b = Buffer.alloc(48 + pdu.length);
  const le = endian === 'le';
  const u32 = (v: number, o: number): number => (le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const u64 = (v: bigint, o: number): number => (le ? b.writeBigUInt64LE(v, o) : b.writeBigUInt64BE(v, o));
  u32(0x65617400 | 0x07, 0);
  u32(r.sequence, 4);
  u64(r.time, 8);
  u64(r.sector, 16);
  u32(r.bytes, 24);
  u32(r.action, 28);
  u32(r.pid, 32);
  u32(r.device, 36);
  u32(r.cpu, 40);
  if (le) b.writeUInt16LE(0, 44);
  else b.writeUInt16BE(0, 44);
  if (le) b.writeUInt16LE(pdu.length, 46);
  else b.writeUInt16BE(pdu.length, 46);
  pdu.copy(b, 48);
  return b;
}
const TC = (bit: number): number => (1 << bit) << 16;
const READ = TC(0);
const WRITE = TC(1);
const ISSUE = 7 | TC(6);
const QUEUE = 1 | TC(4);
const COMPLETE = 8 | TC(7);
const NOTIFY_PROCESS = 0 | TC(10);
const PC = TC(9);
const CGROUP = 1 << 8;
const DEV_SR0 = (11 << 20) | 0;

function sample(endian: 'le' | 'be'): Buffer {
  const comm = Buffer.alloc(16);
  comm.write('md5sum');
  const cg = Buffer.alloc(8);
  cg.writeBigUInt64LE(42n);
  return Buffer.concat(
    [
      record({ sequence: 0, time: 1000n, sector: 0n, bytes: 0, action: NOTIFY_PROCESS, pid: 211, device: DEV_SR0, cpu: 0, pdu: comm }, endian),
      record({ sequence: 1, time: 2000n, sector: 3388n, bytes: 4096, action: QUEUE | READ, pid: 211, device: DEV_SR0, cpu: 0 }, endian),
      record({ sequence: 2, time: 3000n, sector: 3388n, bytes: 4096, action: ISSUE | READ, pid: 211, device: DEV_SR0, cpu: 0 }, endian),
      record({ sequence: 3, time: 3500n, sector: 0n, bytes: 12, action: ISSUE | READ | PC, pid: 211, device: DEV_SR0, cpu: 0, pdu: Buffer.alloc(16) }, endian),
      record({ sequence: 4, time: 4000n, sector: 9000n, bytes: 4096, action: ISSUE | WRITE, pid: 211, device: DEV_SR0, cpu: 0 }, endian),
      record({ sequence: 5, time: 5000n, sector: 3396n, bytes: 16384, action: ISSUE | READ | CGROUP, pid: 211, device: DEV_SR0, cpu: 0, pdu: cg }, endian),
      record({ sequence: 6, time: 6000n, sector: 3388n, bytes: 4096, action: COMPLETE | READ, pid: 0, device: DEV_SR0, cpu: 0 }, endian),
    ],
  );
}

t.test('records written from the documented struct, both byte orders', async (t) => {
  for (const endian of ['le', 'be'] as const) {
    const trace = parseTrace(sample(endian), `sr0.blktrace.0 (${endian})`);
    t.equal(trace.format, 'blktrace');
    t.same(
      blocks(trace.events).map((e) => [e.device, e.offset, e.length, e.timeNs]),
      [
        ['11,0', 3388 * 512, 4096, 3000],
        ['11,0', 3396 * 512, 16384, 5000],
      ],
      `${endian}: issued reads only (no queue, complete, write, packet command, notify); cgroup payload skipped`,
    );
    t.equal(trace.devices![0]!.kind, 'cdrom');
  }
});

t.test('captured binary traces agree with blkparse of the same files and with qemu', async (t) => {
  const sr0 = await readTrace(fixture('captured/sr0.blktrace.0'));
  const text = await readTrace(fixture('captured/blkparse-sr0.txt'));
  const bin = blocks(sr0.events);
  const txt = blocks(text.events);
  t.ok(txt.length > 20);
  t.same(
    bin.slice(0, txt.length).map((e) => [e.device, e.offset, e.length]),
    txt.map((e) => [e.device, e.offset, e.length]),
    'blkparse (trimmed) is a prefix of the binary trace',
  );
  // blkparse prints times since the first record; the gaps between reads must be the same
  for (let i = 1; i < txt.length; i++) {
    if (bin[i]!.timeNs! - bin[i - 1]!.timeNs! !== txt[i]!.timeNs! - txt[i - 1]!.timeNs!) t.fail(`gap ${i} differs`);
  }
  // the guest's sr0 reads are the reads qemu saw on the CD (same boot): sector*512 = byte offset
  const qemu = await readTrace(fixture('captured/qemu-trace.log'));
  const cd = qemu.devices!.find((d) => d.kind === 'cdrom')!.id;
  const qemuStarts = new Set(blocks(qemu.events).filter((e) => e.device === cd).map((e) => e.offset));
  t.equal(bin.filter((e) => qemuStarts.has(e.offset)).length, bin.length, 'every sr0 read reached qemu at the same offset');

  const loop = await readTrace(fixture('captured/loop0.blktrace.0'));
  const loopText = await readTrace(fixture('captured/blkparse-loop0.txt'));
  t.same(
    blocks(loop.events).slice(0, loopText.events.length).map((e) => [e.offset, e.length]),
    blocks(loopText.events).map((e) => [e.offset, e.length]),
  );
});

t.test('per-CPU files merge by time into the trace blkparse shows', async (t) => {
  const cpu0 = await readTrace(fixture('captured/smp2/sr0.blktrace.0'));
  const cpu1 = await readTrace(fixture('captured/smp2/sr0.blktrace.1'));
  t.ok(cpu0.events.length > 0 && cpu1.events.length > 0, 'both CPUs issued reads');
  const merged = mergeBlktraceCpus([cpu0, cpu1]);
  t.equal(merged.length, 1);
  const text = await readTrace(fixture('captured/smp2/blkparse-sr0.txt'));
  t.same(
    blocks(merged[0]!.events).map((e) => [e.offset, e.length]),
    blocks(text.events).map((e) => [e.offset, e.length]),
    'same reads in the same order as blkparse merged them',
  );
  t.same(merged[0]!.events.map((e) => e.seq), merged[0]!.events.map((_, i) => i));
  const other = { source: 'x.log', format: 'qemu' as const, events: [] };
  t.equal(mergeBlktraceCpus([other, cpu0, other]).length, 3, 'other traces are kept in place');
});

t.test('truncated and garbled files end with a FormatError at the record', async (t) => {
  const bytes = readFileSync(fixture('captured/sr0.blktrace.0'));
  // walk to the 10th record boundary with the documented layout
  let off = 0;
  for (let i = 0; i < 10; i++) off += 48 + bytes.readUInt16LE(off + 46);
  const cutHeader = formatErrorOf(() => parseBlktrace(bytes.subarray(0, off + 20), 'cut.blktrace.0'));
  t.equal(cutHeader.offset, off);
  t.match(cutHeader.message, /cut\.blktrace\.0 at byte \d+: truncated blktrace record: 20 of 48/);

  const withPdu = Buffer.concat([sample('le'), record({ sequence: 9, time: 1n, sector: 0n, bytes: 0, action: NOTIFY_PROCESS, pid: 1, device: DEV_SR0, cpu: 0, pdu: Buffer.alloc(16) })]);
  const e = formatErrorOf(() => parseBlktrace(withPdu.subarray(0, withPdu.length - 5), 'pdu.blktrace.0'));
  t.match(e.message, /payload of 16 bytes runs past the end/);

  const garbled = Buffer.from(bytes);
  garbled.writeUInt32LE(0xdeadbeef, off);
  const g = formatErrorOf(() => parseBlktrace(garbled, 'g.blktrace.0'));
  t.equal(g.offset, off);
  t.match(g.message, /bad blktrace record magic 0xdeadbeef/);

  const version = Buffer.from(bytes);
  version.writeUInt32LE(0x65617406, off);
  t.match(formatErrorOf(() => parseBlktrace(version, 'v.blktrace.0')).message, /unsupported blktrace version 6/);

  const cg = record({ sequence: 1, time: 1n, sector: 0n, bytes: 512, action: ISSUE | READ | CGROUP, pid: 1, device: DEV_SR0, cpu: 0, pdu: Buffer.alloc(4) });
  t.match(formatErrorOf(() => parseBlktrace(cg, 'cg.blktrace.0')).message, /cgroup id but has 4 payload bytes/);
});
