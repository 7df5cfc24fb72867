import { FormatError } from '../errors.js';
import type { FileEvent, Trace } from './types.js';

/**
 * The legacy draklive profile: one absolute path per line, in access order, duplicates allowed.
 * Paths are UTF-8; a NUL byte, invalid UTF-8 or a line that is not an absolute path means
 * this is not a bootlog.list, and we say where.
 */
export function looksLikeBootlog(head: Buffer): boolean {
  // first non-blank byte is '/'
  for (const byte of head) {
    if (byte === 0x0a || byte === 0x0d || byte === 0x20 || byte === 0x09) continue;
    return byte === 0x2f;
  }
  // only blank lines: a bootlog.list with no entries (parseTrace reports "no events")
  return true;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function parseBootlog(bytes: Buffer, source: string): Trace {
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new FormatError(source, nul, 'NUL byte: this is not a text profile');
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new FormatError(source, firstInvalidUtf8(bytes), 'invalid UTF-8: profile paths must be UTF-8');
  }
  const events: FileEvent[] = [];
  let offset = 0;
  let lineNo = 0;
  while (offset < text.length) {
    let end = text.indexOf('\n', offset);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(offset, end);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > 0) {
      if (line.charCodeAt(0) !== 0x2f) {
        throw new FormatError(
          source,
          Buffer.byteLength(text.slice(0, offset)),
          `line ${lineNo} is not an absolute path: ${JSON.stringify(line.slice(0, 80))}`,
        );
      }
      events.push({ kind: 'open', seq: events.length, path: line });
    }
    offset = end + 1;
  }
  return { source, format: 'bootlog', events };
}

function firstInvalidUtf8(bytes: Buffer): number {
  // Decode progressively larger prefixes would be quadratic; walk sequences instead.
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return i;
}
