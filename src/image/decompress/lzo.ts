import { DecompressError } from './types.js';

/**
 * LZO1X decoder with the checks of lzo1x_decompress_safe (squashfs-tools writes with liblzo2's
 * lzo1x_999 / lzo1x_1, the kernel reads with lib/lzo/lzo1x_decompress_safe.c, which this follows).
 * `state` is the number of literals copied after the last match (0..3), or 4 after a literal run.
 */
export function decompressLzo1x(input: Uint8Array, maxOutput: number): Buffer {
  const out = Buffer.allocUnsafe(maxOutput);
  const inEnd = input.length;
  let ip = 0;
  let op = 0;
  let state = 0;
  let t: number;
  let matchPos: number;
  let next: number;

  const needIn = (n: number): void => {
    if (ip + n > inEnd) throw new DecompressError('lzo: input overrun');
  };
  const needOut = (n: number): void => {
    if (op + n > maxOutput) throw new DecompressError(`lzo: output exceeds ${maxOutput} bytes`);
  };
  const copyLiterals = (n: number): void => {
    needIn(n);
    needOut(n);
    out.set(input.subarray(ip, ip + n), op);
    ip += n;
    op += n;
  };
  // A run of zero bytes extends a length by 255 each; bounded by the input size.
  const extendedLength = (base: number): number => {
    let zeros = 0;
    for (;;) {
      needIn(1);
      if (input[ip] !== 0) break;
      ip++;
      zeros++;
    }
    return base + zeros * 255 + input[ip++]!;
  };
  const copyMatch = (from: number, n: number): void => {
    if (from < 0) throw new DecompressError('lzo: match before the start of the output');
    needOut(n);
    for (let i = 0; i < n; i++) out[op++] = out[from++]!;
  };

  needIn(1);
  if (input[0]! > 17) {
    t = input[ip++]! - 17;
    if (t < 4) {
      state = t;
      copyLiterals(t);
    } else {
      copyLiterals(t);
      state = 4;
    }
  }
  // Every pass consumes at least one input byte, so the loop ends within inEnd passes.
  for (;;) {
    needIn(1);
    t = input[ip++]!;
    if (t < 16) {
      if (state === 0) {
        if (t === 0) t = extendedLength(15);
        copyLiterals(t + 3);
        state = 4;
        continue;
      }
      if (state !== 4) {
        next = t & 3;
        needIn(1);
        matchPos = op - 1 - (t >> 2) - (input[ip++]! << 2);
        copyMatch(matchPos, 2);
      } else {
        next = t & 3;
        needIn(1);
        matchPos = op - (1 + 0x0800) - (t >> 2) - (input[ip++]! << 2);
        copyMatch(matchPos, 3);
      }
    } else if (t >= 64) {
      next = t & 3;
      needIn(1);
      matchPos = op - 1 - ((t >> 2) & 7) - (input[ip++]! << 3);
      copyMatch(matchPos, (t >> 5) + 1);
    } else if (t >= 32) {
      t = (t & 31) + 2;
      if (t === 2) t = extendedLength(31 + 2);
      needIn(2);
      const word = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
      matchPos = op - 1 - (word >> 2);
      next = word & 3;
      copyMatch(matchPos, t);
    } else {
      matchPos = op - ((t & 8) << 11);
      t = (t & 7) + 2;
      if (t === 2) t = extendedLength(7 + 2);
      needIn(2);
      const word = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
      matchPos -= word >> 2;
      next = word & 3;
      if (matchPos === op) {
        // end-of-stream marker 0x11 0x00 0x00
        if (t !== 3) throw new DecompressError('lzo: bad end-of-stream marker');
        if (ip !== inEnd) throw new DecompressError('lzo: input not fully consumed');
        return out.subarray(0, op);
      }
      matchPos -= 0x4000;
      copyMatch(matchPos, t);
    }
    state = next;
    copyLiterals(next);
  }
}
