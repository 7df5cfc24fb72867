/**
 * The x86 BCJ filter, decoding side (xz-embedded's bcj_x86, public domain): E8/E9 call and jump
 * targets were made absolute by the encoder to compress better; turn them back into relative
 * offsets. `startOffset` is the filter's optional start-offset property. Works in place, on the
 * whole buffer at once (the encoder leaves the last 4 bytes alone, and so do we).
 */
export function bcjX86Decode(buf: Uint8Array, startOffset: number): void {
  const maskToAllowed = [true, true, true, false, true, false, false, false];
  const maskToBitNum = [0, 1, 2, 2, 3, 3, 3, 3];
  const isMsByte = (b: number): boolean => b === 0x00 || b === 0xff;
  if (buf.length <= 4) return;
  const size = buf.length - 4;
  let prevPos = -1;
  let prevMask = 0;
  for (let i = 0; i < size; i++) {
    if ((buf[i]! & 0xfe) !== 0xe8) continue;
    const distance = i - prevPos;
    if (distance > 3) {
      prevMask = 0;
    } else {
      prevMask = (prevMask << (distance - 1)) & 7;
      if (prevMask !== 0) {
        const b = buf[i + 4 - maskToBitNum[prevMask]!]!;
        if (!maskToAllowed[prevMask] || isMsByte(b)) {
          prevPos = i;
          prevMask = (prevMask << 1) | 1;
          continue;
        }
      }
    }
    prevPos = i;
    if (isMsByte(buf[i + 4]!)) {
      let src = (buf[i + 1]! | (buf[i + 2]! << 8) | (buf[i + 3]! << 16) | (buf[i + 4]! << 24)) >>> 0;
      let dest: number;
      for (;;) {
        dest = (src - ((startOffset + i + 5) >>> 0)) >>> 0;
        if (prevMask === 0) break;
        const j = maskToBitNum[prevMask]! * 8;
        const b = (dest >>> (24 - j)) & 0xff;
        if (!isMsByte(b)) break;
        src = (dest ^ (2 ** (32 - j) - 1)) >>> 0;
      }
      dest &= 0x01ffffff;
      dest = (dest | -(dest & 0x01000000)) >>> 0;
      buf[i + 1] = dest & 0xff;
      buf[i + 2] = (dest >>> 8) & 0xff;
      buf[i + 3] = (dest >>> 16) & 0xff;
      buf[i + 4] = dest >>> 24;
      i += 4;
    } else {
      prevMask = (prevMask << 1) | 1;
    }
  }
}

/** ARM: BL instructions (cond AL, 0xEB) carry a word offset; little-endian 4-byte aligned. */
export function bcjArmDecode(buf: Uint8Array, startOffset: number): void {
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    if (buf[i + 3] !== 0xeb) continue;
    let addr = ((buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16)) << 2) >>> 0;
    addr = (addr - ((startOffset + i + 8) >>> 0)) >>> 0;
    addr >>>= 2;
    buf[i] = addr & 0xff;
    buf[i + 1] = (addr >>> 8) & 0xff;
    buf[i + 2] = (addr >>> 16) & 0xff;
  }
}

/** ARM Thumb: the BL pair (F000 F800) splits a 22-bit halfword offset over two halfwords. */
export function bcjArmThumbDecode(buf: Uint8Array, startOffset: number): void {
  for (let i = 0; i + 4 <= buf.length; i += 2) {
    if ((buf[i + 1]! & 0xf8) !== 0xf0 || (buf[i + 3]! & 0xf8) !== 0xf8) continue;
    let addr = (((buf[i + 1]! & 7) << 19) | (buf[i]! << 11) | ((buf[i + 3]! & 7) << 8) | buf[i + 2]!) >>> 0;
    addr = ((addr << 1) >>> 0) - ((startOffset + i + 4) >>> 0);
    addr = (addr >>> 0) >>> 1;
    buf[i + 1] = 0xf0 | ((addr >>> 19) & 7);
    buf[i] = (addr >>> 11) & 0xff;
    buf[i + 3] = 0xf8 | ((addr >>> 8) & 7);
    buf[i + 2] = addr & 0xff;
    i += 2;
  }
}

/** PowerPC: "bl" (opcode 18 with AA=0, LK=1), big-endian. */
export function bcjPowerPcDecode(buf: Uint8Array, startOffset: number): void {
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    let instr = ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
    if ((instr & 0xfc000003) >>> 0 !== 0x48000001) continue;
    instr = (instr & 0x03fffffc) >>> 0;
    instr = (instr - ((startOffset + i) >>> 0)) >>> 0;
    instr = ((instr & 0x03fffffc) | 0x48000001) >>> 0;
    buf[i] = instr >>> 24;
    buf[i + 1] = (instr >>> 16) & 0xff;
    buf[i + 2] = (instr >>> 8) & 0xff;
    buf[i + 3] = instr & 0xff;
  }
}

/** SPARC: "call" instructions whose displacement is a sign-extended 22-bit value, big-endian. */
export function bcjSparcDecode(buf: Uint8Array, startOffset: number): void {
  for (let i = 0; i + 4 <= buf.length; i += 4) {
    let instr = ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
    const top = instr >>> 22;
    if (top !== 0x100 && top !== 0x1ff) continue;
    instr = (instr << 2) >>> 0;
    instr = (instr - ((startOffset + i) >>> 0)) >>> 0;
    instr >>>= 2;
    instr = ((0x40000000 - (instr & 0x400000)) | 0x40000000 | (instr & 0x3fffff)) >>> 0;
    buf[i] = instr >>> 24;
    buf[i + 1] = (instr >>> 16) & 0xff;
    buf[i + 2] = (instr >>> 8) & 0xff;
    buf[i + 3] = instr & 0xff;
  }
}

/** xz filter ids of the branch converters we can undo (IA-64, 0x06, is not supported). */
export const BCJ_DECODERS: Readonly<Record<number, (buf: Uint8Array, startOffset: number) => void>> = {
  0x04: bcjX86Decode,
  0x05: bcjPowerPcDecode,
  0x07: bcjArmDecode,
  0x08: bcjArmThumbDecode,
  0x09: bcjSparcDecode,
};
