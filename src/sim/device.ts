/**
 * A storage device as the cost model sees it: geometry (where a byte sits), spindle (how fast it
 * turns there), transfer rate (how fast bytes stream there), and the seek curve.
 * Every figure carries its source in `sources`; see docs/cost-model.md for the derivations.
 */
export type DeviceId = 'cd52-cav' | 'cd24-clv' | 'dvd16-cav' | 'hdd7200' | 'usb2-flash' | 'sata-ssd';

/**
 * Where the image's bytes sit. `spiral`: an optical disc written from the inner radius outward,
 * equal area per byte (so radius grows like the square root of the offset). `linear`: the stroke
 * fraction is offset / capacity (a hard disk with the image somewhere on it). `none`: no moving head.
 */
export type Geometry =
  | { kind: 'spiral'; innerRadiusMm: number; outerRadiusMm: number; capacityBytes: number }
  | { kind: 'linear'; capacityBytes: number }
  | { kind: 'none' };

/**
 * CAV: constant rpm, so the rate grows with the radius (`maxBytesPerSecond` at the outer edge).
 * CLV: constant linear speed, so the rate is constant and the rpm falls as 1/radius from `innerRpm`.
 * fixed: constant rpm and constant rate (a hard disk, zones ignored). none: no rotation (flash).
 */
export type Spindle =
  | { kind: 'cav'; rpm: number; maxBytesPerSecond: number }
  /** fullSpeedChangeMs: time to go from the inner edge's speed to the outer edge's. */
  | { kind: 'clv'; bytesPerSecond: number; innerRpm: number; fullSpeedChangeMs: number }
  | { kind: 'fixed'; rpm: number; bytesPerSecond: number }
  | { kind: 'none'; bytesPerSecond: number };

/**
 * Seek time over the stroke fraction f in (0, 1]: min + (full - min) * f^exponent, with the exponent
 * chosen so that a one-third stroke costs `averageMs` (the industry's "average seek" definition).
 * A flash device has a constant `averageMs` access penalty for any jump (min = full = average).
 */
export interface SeekCurve {
  minMs: number;
  averageMs: number;
  fullStrokeMs: number;
}

export interface SourcedFigure {
  parameter: string;
  value: string;
  source: string;
  /** True when no source gives the figure and we chose it. */
  estimate: boolean;
}

export interface DeviceModel {
  id: DeviceId | string;
  name: string;
  geometry: Geometry;
  spindle: Spindle;
  seek: SeekCurve;
  /** Device reads are whole sectors. */
  sectorBytes: number;
  /**
   * The drive's read-ahead buffer: after a read the drive keeps streaming forward into it, and it
   * keeps the last `bufferBytes` it read. A later read inside it is a hit; a read a short way ahead
   * is reached by streaming on instead of seeking, when that is cheaper.
   */
  bufferBytes: number;
  sources: SourcedFigure[];
}
