import type { RegularFileFailure } from '../tree/resolve.js';

/** One file of a boot profile, at its first access. */
export interface ProfileEntry {
  /** Absolute path as the guest saw it, after prefix stripping ("/usr/bin/bash"). */
  path: string;
  /** Position of the first access in the merged order, from 0. */
  order: number;
  /** Sequence number of the first access in its own trace. */
  firstSeq: number;
  firstTimeNs?: number;
  /** Index of the trace (in the order given) that first accessed this path. */
  source: number;
}

/**
 * Why a path left the profile: the resolver's reasons (src/tree/resolve.ts: 'root' is the profile's
 * "/", which mksquashfs rejects; 'special' a device node, fifo or socket), and the profile's own.
 */
export type DropReason =
  | RegularFileFailure
  | 'excluded' // matched an exclude pattern
  | 'unrepresentable' // cannot be written in the chosen output format
  | 'duplicate-inode'; // another path of the profile resolved to the same file first

export interface DroppedPath {
  path: string;
  reason: DropReason;
  detail?: string;
}

export interface Profile {
  entries: ProfileEntry[];
  dropped: DroppedPath[];
  /** Accesses folded into an earlier access of the same path. */
  repeats: number;
  /** Number of trace events read. */
  events: number;
  /** Block or inode-only events left out because no image layout was given to map them. */
  unmappedBlockEvents: number;
}
