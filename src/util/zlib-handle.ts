/**
 * The native zlib handle behind a node:zlib stream object, as node:zlib's own synchronous path
 * drives it: `writeSync` on the handle, with the counts left over (output room, input bytes) in the
 * stream's `_writeState`. Internal to Node: callers keep a public-API fallback for when it is absent.
 */
export interface NativeZlib {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}

/** The handle and its write state ([0]: output room left, [1]: input bytes left), or undefined. */
export function nativeZlibOf(stream: object): { handle: NativeZlib; state: Uint32Array } | undefined {
  const fields = stream as { _handle?: Partial<NativeZlib>; _writeState?: unknown };
  const h = fields._handle;
  const state = fields._writeState;
  if (!h || typeof h.writeSync !== 'function' || typeof h.reset !== 'function' || !(state instanceof Uint32Array) || state.length < 2) return undefined;
  return { handle: h as NativeZlib, state };
}
