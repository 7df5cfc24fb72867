import { DecompressError } from './types.js';

/**
 * LZ4 raw block decoder (what LZ4_decompress_safe reads; squashfs stores bare blocks, no frame).
 * Sequence: token (literal length high nibble, match length low nibble), extra length bytes of 255,
 * literals, u16 LE match offset, extra match length bytes. The last sequence has literals only.
 */
export function decompressLz4Block(input: Uint8Array, maxOutput: number): Buffer {
  const out = Buffer.allocUnsafe(maxOutput);
  const inEnd = input.length;
  let ip = 0;
  let op = 0;
  if (inEnd === 0) throw new DecompressError('lz4: empty block');
  for (;;) {
    const token = input[ip++]!;
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= inEnd) throw new DecompressError('lz4: truncated literal length');
        b = input[ip++]!;
        litLen += b;
      } while (b === 255);
    }
    if (ip + litLen > inEnd) throw new DecompressError('lz4: literals run past the input');
    if (op + litLen > maxOutput) throw new DecompressError(`lz4: output exceeds ${maxOutput} bytes`);
    out.set(input.subarray(ip, ip + litLen), op);
    ip += litLen;
    op += litLen;
    if (ip === inEnd) break; // last sequence: literals only
    if (ip + 2 > inEnd) throw new DecompressError('lz4: truncated match offset');
    const distance = input[ip]! | (input[ip + 1]! << 8);
    ip += 2;
    if (distance === 0 || distance > op) throw new DecompressError(`lz4: match distance ${distance} out of range`);
    let matchLen = token & 15;
    if (matchLen === 15) {
      let b: number;
      do {
        if (ip >= inEnd) throw new DecompressError('lz4: truncated match length');
        b = input[ip++]!;
        matchLen += b;
      } while (b === 255);
    }
    matchLen += 4;
    if (op + matchLen > maxOutput) throw new DecompressError(`lz4: output exceeds ${maxOutput} bytes`);
    let from = op - distance;
    if (distance >= matchLen) {
      out.copyWithin(op, from, from + matchLen);
      op += matchLen;
    } else {
      // overlapping copy repeats the last `distance` bytes: byte by byte
      for (let i = 0; i < matchLen; i++) out[op++] = out[from++]!;
    }
  }
  return out.subarray(0, op);
}
