/**
 * One event stream for every capture format. File events name a path as the guest saw it;
 * block events name a device offset and must go through an image Layout (src/map) to become files.
 */
export type FileEventKind = 'open' | 'exec' | 'read' | 'fault';

export interface FileEvent {
  kind: FileEventKind;
  /** Order in the capture, from 0. */
  seq: number;
  /** Nanoseconds since an arbitrary origin shared by the events of one trace, when known. */
  timeNs?: number;
  path: string;
  /** Byte range in the file, for read and fault events. */
  offset?: number;
  length?: number;
  pid?: number;
  comm?: string;
  /** Inode number (squashfs inode_number for squashfs files), for events that may carry no path. */
  ino?: number;
  /** The file's device as "major:minor" (its superblock's s_dev), when the trace records it. */
  dev?: string;
  /** Line of the source file the event came from (text logs), for messages. */
  line?: number;
}

export interface BlockEvent {
  kind: 'block';
  seq: number;
  timeNs?: number;
  /** Device the read went to, as the trace names it (qemu blk pointer, "11,0", ...). */
  device: string;
  /** Byte offset on the device. */
  offset: number;
  /** Bytes read. */
  length: number;
  /** Offset inside the squashfs, when the trace records it directly (module's squashfs reads). */
  squashfsOffset?: boolean;
}

export type TraceEvent = FileEvent | BlockEvent;

export type TraceFormat =
  | 'bootlog'
  | 'bootprof-events'
  | 'bootprof-profile'
  | 'qemu'
  | 'blkparse'
  | 'blktrace'
  | 'tracefs';

/**
 * What a trace knows about a device its block events name. The mapper decides from `kind`
 * which coordinates the offsets are in (src/map/devices.ts).
 */
export interface TraceDevice {
  /** As in BlockEvent.device. */
  id: string;
  /** 'cdrom': the optical drive (ISO bytes); 'loop': a loop device (squashfs bytes when it backs the
   *  squashfs); 'squashfs': offsets already inside the squashfs; 'disk': another block device. */
  kind: 'cdrom' | 'loop' | 'squashfs' | 'disk' | 'unknown';
  /** One line for messages: how the trace named it and how it was recognised. */
  description: string;
}

export interface Trace {
  /** The file the trace came from, for messages. */
  source: string;
  format: TraceFormat;
  events: TraceEvent[];
  /** Devices named by the block events, when the parser knows something about them. */
  devices?: TraceDevice[];
  /** Things the parser skipped on purpose (probe reads, superseded events), for messages. */
  notes?: string[];
  /**
   * Set by src/map (mapBlockEvents): the block and inode-only events went through an image Layout
   * and every event is now a file event; one with an empty path is an inode the image could not name.
   */
  blocksMapped?: true;
}

export function isFileEvent(event: TraceEvent): event is FileEvent {
  return event.kind !== 'block';
}
