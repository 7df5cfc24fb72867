import type { DeviceModel } from './device.js';

/**
 * Pure functions of a device model and byte offsets: radius, seek time, rotational latency,
 * transfer time. Offsets are bytes from the start of the image, which sits at the start of the media.
 */

/** Radius in mm of the byte at `offset` (spiral geometry), growing like sqrt(offset): equal area per byte. */
export function radiusMm(device: DeviceModel, offset: number): number {
  const g = device.geometry;
  if (g.kind !== 'spiral') return 0;
  const ri2 = g.innerRadiusMm * g.innerRadiusMm;
  const k = (g.outerRadiusMm * g.outerRadiusMm - ri2) / g.capacityBytes;
  return Math.sqrt(ri2 + k * Math.max(0, offset));
}

/** Fraction of the full stroke between two offsets, in [0, 1] (past the media's end it is clamped). */
export function strokeFraction(device: DeviceModel, from: number, to: number): number {
  const g = device.geometry;
  if (from === to) return 0;
  switch (g.kind) {
    case 'spiral': {
      const f = Math.abs(radiusMm(device, to) - radiusMm(device, from)) / (g.outerRadiusMm - g.innerRadiusMm);
      return Math.min(1, f);
    }
    case 'linear':
      return Math.min(1, Math.abs(to - from) / g.capacityBytes);
    case 'none':
      return 1;
  }
}

/** The exponent that puts the seek curve through (1/3 stroke, average). */
export function seekExponent(device: DeviceModel): number {
  const { minMs, averageMs, fullStrokeMs } = device.seek;
  if (fullStrokeMs <= minMs || averageMs <= minMs) return 1;
  return Math.log((averageMs - minMs) / (fullStrokeMs - minMs)) / Math.log(1 / 3);
}

/** Spindle speed in rpm at `offset` (0 for devices that do not turn). */
export function rpmAt(device: DeviceModel, offset: number): number {
  const s = device.spindle;
  switch (s.kind) {
    case 'cav':
    case 'fixed':
      return s.rpm;
    case 'clv': {
      // constant linear velocity: rpm falls as 1/r
      const g = device.geometry;
      if (g.kind !== 'spiral') return s.innerRpm;
      return (s.innerRpm * g.innerRadiusMm) / radiusMm(device, offset);
    }
    case 'none':
      return 0;
  }
}

/** Time to move the head from `from` to `to` (0 when they are equal), in ms. */
export function seekMs(device: DeviceModel, from: number, to: number, exponent = seekExponent(device)): number {
  if (from === to) return 0;
  const { minMs, fullStrokeMs } = device.seek;
  if (device.geometry.kind === 'none') return device.seek.averageMs;
  const f = strokeFraction(device, from, to);
  const head = minMs + (fullStrokeMs - minMs) * Math.pow(f, exponent);
  const s = device.spindle;
  if (s.kind !== 'clv') return head;
  // a CLV drive must also change spindle speed; it does so while the sled moves
  const g = device.geometry;
  const span = g.kind === 'spiral' ? s.innerRpm * (1 - g.innerRadiusMm / g.outerRadiusMm) : 0;
  const change = span > 0 ? (s.fullSpeedChangeMs * Math.abs(rpmAt(device, to) - rpmAt(device, from))) / span : 0;
  return Math.max(head, change);
}

/** Average wait for the sector to come round after a seek: half a revolution, in ms. */
export function rotationalLatencyMs(device: DeviceModel, offset: number): number {
  const rpm = rpmAt(device, offset);
  return rpm > 0 ? 30000 / rpm : 0;
}

/** Transfer rate in bytes/s at `offset`. */
export function rateAt(device: DeviceModel, offset: number): number {
  const s = device.spindle;
  if (s.kind === 'cav') {
    const g = device.geometry;
    if (g.kind !== 'spiral') return s.maxBytesPerSecond;
    return (s.maxBytesPerSecond * radiusMm(device, offset)) / g.outerRadiusMm;
  }
  return s.bytesPerSecond;
}

/** Highest transfer rate anywhere on the media, bytes/s. */
export function maxRate(device: DeviceModel): number {
  const s = device.spindle;
  return s.kind === 'cav' ? s.maxBytesPerSecond : s.bytesPerSecond;
}

/**
 * Time in ms to stream from offset 0 to `offset`. Transfer time of [a, b) is cumulative(b) - cumulative(a):
 * exact and additive, so splitting a read never changes its cost (the lower bound relies on this).
 * CAV on a spiral: rate = max * r / ro and dr/dx = k / 2r, so dt = (ro / max) dx / r
 * and T(x) = (ro / max) * (2 / k) * (r(x) - ri).
 */
export function cumulativeTransferMs(device: DeviceModel, offset: number): number {
  const s = device.spindle;
  const g = device.geometry;
  const x = Math.max(0, offset);
  if (s.kind === 'cav' && g.kind === 'spiral') {
    const k = (g.outerRadiusMm * g.outerRadiusMm - g.innerRadiusMm * g.innerRadiusMm) / g.capacityBytes;
    return ((g.outerRadiusMm / s.maxBytesPerSecond) * (2 / k) * (radiusMm(device, x) - g.innerRadiusMm)) * 1000;
  }
  return (x / (s.kind === 'cav' ? s.maxBytesPerSecond : s.bytesPerSecond)) * 1000;
}

export function transferMs(device: DeviceModel, from: number, to: number): number {
  if (to <= from) return 0;
  return cumulativeTransferMs(device, to) - cumulativeTransferMs(device, from);
}
