import { basename } from 'node:path';
import type { Layout } from '../image/layout.js';
import { openImage } from '../image/open.js';
import { blockEventsToFileEvents, chooseDeviceCoordinates, type DeviceOverrides } from '../map/index.js';
import { DEFAULT_EXCLUDES } from '../profile/filters.js';
import { profileFromTraces } from '../profile/load.js';
import type { MergeMode } from '../profile/merge.js';
import type { Profile } from '../profile/types.js';
import { mergeBlktraceCpus } from '../trace/merge-cpus.js';
import { readTrace } from '../trace/read.js';
import type { Trace } from '../trace/types.js';
import { blockEventsToReads, type PhysicalReads } from './physical.js';
import type { FileAccess } from './replay.js';

/** What `simulate` and `report` read from disk: image layouts, the boot profile, the physical traces. */
export interface SimulationInputs {
  images: { name: string; layout: Layout }[];
  /** Regular files of the profile (present in at least one image), in first-access order. */
  accesses: FileAccess[];
  /** Every profiled path, directories included: what the seed's sort file listed. */
  touchedPaths: string[];
  /** Block traces, in the first image's coordinates. */
  physical: { name: string; reads: PhysicalReads }[];
  traceNames: string[];
  profile: Profile;
}

export interface SimulationInputOptions {
  images: readonly string[];
  traces: readonly string[];
  excludes?: readonly string[];
  defaultExcludes?: boolean;
  stripPrefixes?: readonly string[];
  merge?: MergeMode;
  devices?: DeviceOverrides;
  /** Path on the ISO of the squashfs to use. */
  squashfsPath?: string;
}

export async function loadSimulationInputs(options: SimulationInputOptions): Promise<SimulationInputs> {
  const images = options.images.map((path) => {
    const image = openImage(path, options.squashfsPath !== undefined ? { squashfsPath: options.squashfsPath } : {});
    try {
      return { name: basename(path), layout: image.layout };
    } finally {
      image.close();
    }
  });
  const traces: Trace[] = [];
  for (const path of options.traces) traces.push(await readTrace(path));
  const merged = mergeBlktraceCpus(traces);
  const base = images[0]!.layout;
  const profile = profileFromTraces(merged, {
    excludes: [...(options.defaultExcludes === false ? [] : DEFAULT_EXCLUDES), ...(options.excludes ?? [])],
    stripPrefixes: options.stripPrefixes ?? [],
    merge: options.merge ?? 'concat',
    layout: base,
    mapBlocks: (trace, layout) => blockEventsToFileEvents(trace, layout, options.devices ? { devices: options.devices } : {}),
  });
  const known = new Set<string>();
  for (const image of images) for (const f of image.layout.files) known.add(f.path);
  const touchedPaths = profile.entries.map((e) => e.path);
  const accesses = touchedPaths.filter((p) => known.has(p)).map((path) => ({ path }));
  const physical = merged
    .filter((trace) => trace.events.some((e) => e.kind === 'block'))
    .map((trace) => {
      const choices = chooseDeviceCoordinates(trace, base, options.devices);
      return {
        name: basename(trace.source),
        reads: blockEventsToReads(trace.events, base, (e) => choices.get(e.device)?.coordinates ?? 'image'),
      };
    });
  return { images, accesses, touchedPaths, physical, traceNames: merged.map((t) => basename(t.source)), profile };
}
