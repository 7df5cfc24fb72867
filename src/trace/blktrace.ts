import { FormatError, LimitError } from '../errors.js';
import { linuxDeviceKind } from './linux-devices.js';
import type { BlockEvent, Trace, TraceDevice } from './types.js';

/**
 * blktrace's binary per-CPU files (`<dev>.blktrace.<cpu>`), include/uapi/linux/blktrace_api.h
 * (docs/formats.md §4.2):
 * a stream of 48-byte `struct blk_io_trace` records, each followed by `pdu_len` payload bytes,
 * in the byte order of the machine that recorded them (the magic tells which).
 * We keep the reads issued to the driver (__BLK_TA_ISSUE), as blkparse's `D ... R` lines.
 */

const RECORD_BYTES = 48;
const MAGIC = 0x65617400;
const VERSION = 0x07;

const TA_ISSUE = 7;
/** Low byte of the action: __BLK_TA_*; bit 8 is __BLK_TA_CGROUP. */
const TA_MASK = 0xff;
const TA_CGROUP = 1 << 8;
const TC_SHIFT = 16;
const TC_WRITE = 1 << 1;
const TC_PC = 1 << 9;
const TC_NOTIFY = 1 << 10;
const TC_DISCARD = 1 << 13;
const TC_DRV_DATA = 1 << 14;
const CGROUP_ID_BYTES = 8;

/** blktrace writes records for one device at a time; more than this many is not a boot trace. */
export const MAX_BLKTRACE_RECORDS = 50_000_000;

type Endian = 'le' | 'be';

function magicEndian(head: Buffer, offset: number): Endian | undefined {
  if (head.length < offset + 4) return undefined;
  if ((head.readUInt32LE(offset) & 0xffffff00) >>> 0 === MAGIC) return 'le';
  if ((head.readUInt32BE(offset) & 0xffffff00) >>> 0 === MAGIC) return 'be';
  return undefined;
}

export function looksLikeBlktrace(head: Buffer): boolean {
  return head.length >= RECORD_BYTES && magicEndian(head, 0) !== undefined;
}

export function parseBlktrace(bytes: Buffer, source: string): Trace {
  const endian = magicEndian(bytes, 0);
  if (endian === undefined) throw new FormatError(source, 0, 'not a blktrace file (bad magic)');
  const u32 = endian === 'le' ? (o: number) => bytes.readUInt32LE(o) : (o: number) => bytes.readUInt32BE(o);
  const u16 = endian === 'le' ? (o: number) => bytes.readUInt16LE(o) : (o: number) => bytes.readUInt16BE(o);
  const u64 = endian === 'le' ? (o: number) => bytes.readBigUInt64LE(o) : (o: number) => bytes.readBigUInt64BE(o);

  interface Issued {
    event: BlockEvent;
    cpu: number;
    sequence: number;
  }
  const issued: Issued[] = [];
  const readsPerDevice = new Map<string, number>();
  let records = 0;
  let offset = 0;
  while (offset < bytes.length) {
    if (++records > MAX_BLKTRACE_RECORDS) {
      throw new LimitError(source, offset, `more than ${MAX_BLKTRACE_RECORDS} blktrace records`);
    }
    if (bytes.length - offset < RECORD_BYTES) {
      throw new FormatError(
        source,
        offset,
        `truncated blktrace record: ${bytes.length - offset} of ${RECORD_BYTES} header bytes`,
      );
    }
    const magic = u32(offset);
    if ((magic & 0xffffff00) >>> 0 !== MAGIC) {
      throw new FormatError(source, offset, `bad blktrace record magic 0x${magic.toString(16).padStart(8, '0')}`);
    }
    if ((magic & 0xff) !== VERSION) {
      throw new FormatError(source, offset, `unsupported blktrace version ${magic & 0xff} (expected ${VERSION})`);
    }
    const pduLen = u16(offset + 46);
    const next = offset + RECORD_BYTES + pduLen;
    if (next > bytes.length) {
      throw new FormatError(
        source,
        offset,
        `truncated blktrace record: payload of ${pduLen} bytes runs past the end of the file`,
      );
    }
    const action = u32(offset + 28);
    const category = action >>> TC_SHIFT;
    if ((action & TA_CGROUP) !== 0 && pduLen < CGROUP_ID_BYTES) {
      throw new FormatError(source, offset, `blktrace record flags a cgroup id but has ${pduLen} payload bytes`);
    }
    // as blkparse: not a write or discard means a read; packet commands (TC_PC) carry no sector
    const isRead = (category & (TC_WRITE | TC_DISCARD | TC_PC | TC_NOTIFY | TC_DRV_DATA)) === 0;
    const byteCount = u32(offset + 24);
    if ((action & TA_MASK) === TA_ISSUE && isRead && byteCount > 0) {
      const sequence = u32(offset + 4);
      const time = u64(offset + 8);
      const sector = u64(offset + 16);
      const dev = u32(offset + 36);
      const cpu = u32(offset + 40);
      const byteOffset = sector * 512n;
      if (byteOffset > BigInt(Number.MAX_SAFE_INTEGER) || time > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new FormatError(source, offset, 'blktrace record sector or time out of range');
      }
      // kernel dev_t: 12-bit major, 20-bit minor
      const device = `${dev >>> 20},${dev & 0xfffff}`;
      readsPerDevice.set(device, (readsPerDevice.get(device) ?? 0) + 1);
      issued.push({
        event: { kind: 'block', seq: 0, timeNs: Number(time), device, offset: Number(byteOffset), length: byteCount },
        cpu,
        sequence,
      });
    }
    offset = next;
  }

  // One file per CPU is already in time order; `blktrace -o -` interleaves CPUs, so sort by time.
  issued.sort((a, b) => a.event.timeNs! - b.event.timeNs! || a.cpu - b.cpu || a.sequence - b.sequence);
  const events = issued.map((r, i) => ((r.event.seq = i), r.event));
  const devices: TraceDevice[] = [...readsPerDevice].map(([id, n]) => {
    const kind = linuxDeviceKind(Number(id.split(',')[0]));
    return { id, kind, description: `${id} (${kind}, ${n} reads issued to the driver)` };
  });
  return { source, format: 'blktrace', events, devices, notes: [`${records} blktrace records read`] };
}
