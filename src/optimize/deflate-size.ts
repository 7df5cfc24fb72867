import { constants, DeflateRaw, deflateRawSync } from 'node:zlib';
import { nativeZlibOf } from '../util/zlib-handle.js';

/** The compression level the samples are measured at (deflateRawSync's, as universe.ts always used). */
export const SAMPLE_LEVEL = 6;

/**
 * deflateRawSync(view, { level: 6 }).length for each view, without a zlib stream per view: building
 * one (a zeroed 256 KiB state) cost more than deflating the few KiB of a file's sample (5,000
 * samples: ~110 ms of ~190). One native handle is reset between views instead, and that gives the
 * same bytes only in one order: node's zlib (Chromium's) zeroes its window once, when the stream
 * is made, and its hash reads a byte or two past the end of the input, so after a longer input a
 * shorter one can see the older input's bytes there and come out a byte shorter. Fed in order of
 * growing length, every byte past the end of the input is still the zero a new stream has (the
 * window's written part only grows). test/optimize-deflate-size.test.ts holds this against
 * deflateRawSync; without node's internal handle each view goes through deflateRawSync.
 */
export function deflatedLengths(views: readonly Uint8Array[]): number[] {
  const lengths = new Array<number>(views.length).fill(0);
  const engine = nativeDeflate();
  if (engine === undefined) {
    views.forEach((v, i) => (lengths[i] = deflateRawSync(v, { level: SAMPLE_LEVEL }).length));
    return lengths;
  }
  try {
    const order = views.map((_, i) => i).sort((a, b) => views[a]!.length - views[b]!.length || a - b);
    let out = Buffer.allocUnsafe(64 * 1024);
    for (const i of order) {
      const input = views[i]!;
      if (out.length < input.length + 1024) out = Buffer.allocUnsafe(input.length * 2 + 1024);
      lengths[i] = engine.deflate(input, out);
    }
  } finally {
    engine.close();
  }
  return lengths;
}

/** A fresh deflate stream's native handle, or undefined when node:zlib does not expose it. */
function nativeDeflate(): { deflate(input: Uint8Array, out: Buffer): number; close(): void } | undefined {
  const stream = new DeflateRaw({ level: SAMPLE_LEVEL });
  const native = nativeZlibOf(stream);
  if (native === undefined) {
    stream.close();
    return undefined;
  }
  const { handle, state } = native;
  let failure: string | undefined;
  // errors come back through this callback, synchronously, from writeSync
  handle.onerror = (message: string) => {
    failure = message;
  };
  return {
    deflate(input, out) {
      handle.reset();
      let total = 0;
      let inOff = 0;
      let inLen = input.length;
      for (;;) {
        handle.writeSync(constants.Z_FINISH, input, inOff, inLen, out, 0, out.length);
        if (failure !== undefined) throw new Error(`zlib: ${failure}`);
        total += out.length - state[0]!;
        const rest = state[1]!;
        inOff += inLen - rest;
        inLen = rest;
        if (state[0]! > 0) return total; // room left in the output: the stream is finished
      }
    },
    close() {
      stream.close();
    },
  };
}
