import type { Layout } from '../image/layout.js';
import type { FileEvent, Trace } from '../trace/types.js';
import { normaliseDeviceId } from './devices.js';

/**
 * Resolves file events that carry an inode but no path (page-cache fills logged from a tracepoint
 * know only s_dev and i_ino) to the squashfs file with that inode_number.
 *
 * An inode number means something only on its own filesystem, so we resolve only on devices that
 * are the squashfs:
 * - devices named by the caller (`squashfsDevices`), else
 * - devices the trace itself shows to be the squashfs: an event that carries path, dev and inode
 *   where the image's file with that inode has that path (or the path ends with it), or the device
 *   of the module's own squashfs block reads (sqread);
 * - when the trace shows nothing either way, loop devices (major 7): a live system mounts its
 *   squashfs from a loop device.
 */
export class InodeResolver {
  private readonly byInode = new Map<number, number>();
  private readonly devices: Set<string>;

  constructor(
    private readonly layout: Layout,
    trace: Trace,
    squashfsDevices?: readonly string[],
  ) {
    layout.files.forEach((f, i) => {
      // hardlinks share an inode number: the first path in walk order names them
      if (f.layer === 'squashfs' && f.inode !== undefined && !this.byInode.has(f.inode)) this.byInode.set(f.inode, i);
    });
    this.devices =
      squashfsDevices !== undefined ? new Set(squashfsDevices.map(normaliseDeviceId)) : this.learnDevices(trace);
  }

  /** Index in layout.files of the file this event names by inode, or undefined. */
  resolve(event: FileEvent): number | undefined {
    if (event.ino === undefined) return undefined;
    if (event.dev !== undefined && !this.devices.has(normaliseDeviceId(event.dev))) return undefined;
    return this.byInode.get(event.ino);
  }

  get squashfsDevices(): string[] {
    return [...this.devices];
  }

  private learnDevices(trace: Trace): Set<string> {
    const votes = new Map<string, number>();
    let seen = 0;
    for (const event of trace.events) {
      if (event.kind === 'block') {
        if (event.squashfsOffset) votes.set(normaliseDeviceId(event.device), Infinity);
        continue;
      }
      if (event.dev === undefined || event.ino === undefined || event.path === '') continue;
      const dev = normaliseDeviceId(event.dev);
      const index = this.byInode.get(event.ino);
      const match = index !== undefined && pathMatches(event.path, this.layout.files[index]!.path);
      votes.set(dev, (votes.get(dev) ?? 0) + (match ? 1 : -1));
      // a few thousand path+inode events are plenty to tell the devices apart
      if (++seen > 10_000) break;
    }
    const devices = new Set<string>();
    for (const [dev, score] of votes) if (score > 0) devices.add(dev);
    if (devices.size === 0 && votes.size === 0) {
      for (const event of trace.events) {
        if (event.kind !== 'block' && event.dev !== undefined && /^7[:,]/.test(event.dev)) {
          devices.add(normaliseDeviceId(event.dev));
        }
      }
    }
    return devices;
  }
}

/**
 * The guest may see a squashfs file under a mount prefix (/run/live/rootfs/...): match on the tail.
 * Image paths start with '/', so a tail match always falls on a path component boundary.
 */
function pathMatches(guestPath: string, imagePath: string): boolean {
  return guestPath.endsWith(imagePath);
}
