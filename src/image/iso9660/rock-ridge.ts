import { FormatError, LimitError } from '../../errors.js';
import type { ByteSource } from '../source.js';
import { SECTOR, both32 } from './fields.js';

/** Linux isofs gives up after this many CE hops for one record (RR_MAX_CE_ENTRIES); so do we. */
const MAX_CONTINUATIONS = 32;
/** Names and link targets longer than this are not something a writer makes. */
const MAX_NAME_BYTES = 4096;

/** What the System Use area (SUSP, Rock Ridge) of one directory record says. */
export interface SystemUse {
  /** SUSP "SP": present on the root "." record of a SUSP image; `skip` applies to every other record. */
  spSkip?: number;
  /** True when any Rock Ridge entry (RR, PX, NM, SL, TF, PN, CL, PL, RE) was seen. */
  rockRidge: boolean;
  name?: string;
  mode?: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  serial?: number;
  rdev?: { major: number; minor: number };
  symlinkTarget?: string;
  /** CL: this record stands for a directory relocated to this LBA. */
  childLinkLba?: number;
  /** RE: this directory is the relocated copy; its real place is a CL record elsewhere. */
  relocated?: boolean;
}

/** Byte ranges of continuation areas seen, for the layout (they are directory metadata). */
export type RangeSink = (start: number, length: number) => void;

/**
 * Parses the SUSP entries of a record's System Use area and its continuation areas.
 * `area` is the System Use bytes (after the SP skip); `areaOffset` is their position in the image.
 */
export function readSystemUse(source: ByteSource, area: Buffer, areaOffset: number, onContinuation?: RangeSink): SystemUse {
  const out: SystemUse = { rockRidge: false };
  const nm: Buffer[] = [];
  let nmBytes = 0;
  let nmDone = false;
  const sl = new SymlinkBuilder(source.name);
  let buf = area;
  let base = areaOffset;
  for (let hop = 0; ; hop++) {
    let next: { lba: number; offset: number; size: number; at: number } | undefined;
    let pos = 0;
    while (pos + 4 <= buf.length) {
      const at = base + pos;
      const sig = buf.toString('latin1', pos, pos + 2);
      const len = buf[pos + 2]!;
      if (sig === '\0\0' && len === 0) break; // zero padding after the last entry
      if (len < 4 || pos + len > buf.length) {
        throw new FormatError(source.name, at, `System Use entry "${printable(sig)}" has bad length ${len}`);
      }
      const e = buf.subarray(pos, pos + len);
      switch (sig) {
        case 'SP':
          if (len >= 7 && e[4] === 0xbe && e[5] === 0xef) out.spSkip = e[6]!;
          break;
        case 'ST':
          pos = buf.length; // terminator: ignore the rest of this area
          continue;
        case 'CE':
          need(source.name, e, 28, at, 'CE');
          next = { lba: both32(e, 4, source.name, at), offset: both32(e, 12, source.name, at), size: both32(e, 20, source.name, at), at };
          break;
        case 'RR':
          out.rockRidge = true;
          break;
        case 'PX':
          need(source.name, e, 36, at, 'PX');
          out.rockRidge = true;
          out.mode = both32(e, 4, source.name, at);
          out.nlink = both32(e, 12, source.name, at);
          out.uid = both32(e, 20, source.name, at);
          out.gid = both32(e, 28, source.name, at);
          if (len >= 44) out.serial = both32(e, 36, source.name, at);
          break;
        case 'PN':
          need(source.name, e, 20, at, 'PN');
          out.rockRidge = true;
          out.rdev = { major: both32(e, 4, source.name, at), minor: both32(e, 12, source.name, at) };
          break;
        case 'NM': {
          need(source.name, e, 5, at, 'NM');
          out.rockRidge = true;
          const flags = e[4]!;
          if (nmDone || flags & 0x06) break; // CURRENT / PARENT carry no name
          nmBytes += len - 5;
          if (nmBytes > MAX_NAME_BYTES) throw new LimitError(source.name, at, `Rock Ridge name longer than ${MAX_NAME_BYTES} bytes`);
          nm.push(e.subarray(5));
          if (!(flags & 0x01)) nmDone = true;
          break;
        }
        case 'SL':
          need(source.name, e, 5, at, 'SL');
          out.rockRidge = true;
          sl.add(e, at);
          break;
        case 'CL':
          need(source.name, e, 12, at, 'CL');
          out.rockRidge = true;
          out.childLinkLba = both32(e, 4, source.name, at);
          break;
        case 'RE':
          out.rockRidge = true;
          out.relocated = true;
          break;
        case 'PL':
        case 'TF':
        case 'SF':
          out.rockRidge = true;
          break;
        default:
          break; // ER, ES, PD, AA (Apple), AL, ZF, ...: nothing we need
      }
      pos += len;
    }
    if (next === undefined) break;
    if (hop + 1 >= MAX_CONTINUATIONS) {
      throw new LimitError(source.name, next.at, `more than ${MAX_CONTINUATIONS} System Use continuation areas (a loop?)`);
    }
    // Linux isofs requires a continuation area to sit inside one block.
    if (next.offset >= SECTOR || next.size > SECTOR - next.offset) {
      throw new FormatError(source.name, next.at, `CE continuation area (offset ${next.offset}, size ${next.size}) does not fit in one block`);
    }
    const start = next.lba * SECTOR + next.offset;
    if (start + next.size > source.size) {
      throw new FormatError(source.name, next.at, `CE continuation area at block ${next.lba} is past the end of the image`);
    }
    buf = source.read(start, next.size);
    base = start;
    onContinuation?.(start, next.size);
  }
  if (nm.length > 0) out.name = Buffer.concat(nm).toString('utf8');
  const target = sl.result();
  if (target !== undefined) out.symlinkTarget = target;
  return out;
}

/** Rock Ridge SL: components, each possibly continued in the next one or the next SL entry. */
class SymlinkBuilder {
  private parts: string[] = [];
  private joinNext = false;
  private bytes = 0;
  private seen = false;
  private absolute = false;
  private done = false;
  constructor(private readonly file: string) {}

  add(e: Buffer, at: number): void {
    if (this.done) return;
    this.seen = true;
    let pos = 5;
    while (pos + 2 <= e.length) {
      const flags = e[pos]!;
      const clen = e[pos + 1]!;
      if (pos + 2 + clen > e.length) throw new FormatError(this.file, at + pos, `SL component length ${clen} runs past its entry`);
      let text: string;
      if (flags & 0x08) {
        if (this.parts.length === 0) this.absolute = true;
        text = '';
      } else if (flags & 0x02) text = '.';
      else if (flags & 0x04) text = '..';
      else text = e.toString('utf8', pos + 2, pos + 2 + clen);
      this.bytes += text.length + 1;
      if (this.bytes > MAX_NAME_BYTES) throw new LimitError(this.file, at, `Rock Ridge symlink target longer than ${MAX_NAME_BYTES} bytes`);
      if (!(flags & 0x08)) {
        if (this.joinNext && this.parts.length > 0) this.parts[this.parts.length - 1] += text;
        else this.parts.push(text);
      }
      this.joinNext = (flags & 0x01) !== 0;
      pos += 2 + clen;
    }
    if (!(e[4]! & 0x01)) this.done = true;
  }

  result(): string | undefined {
    if (!this.seen) return undefined;
    const body = this.parts.join('/');
    return this.absolute ? `/${body}` : body;
  }
}

function need(file: string, e: Buffer, min: number, at: number, sig: string): void {
  if (e.length < min) throw new FormatError(file, at, `${sig} entry of ${e.length} bytes (needs ${min})`);
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}
