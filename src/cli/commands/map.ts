import type { Argv, CommandModule } from 'yargs';
import type { MappedTrace } from '../../map/index.js';
import { emitData, note } from '../output.js';
import { squashfsPathOf, withImage, type ImageArgs } from '../options/image.js';
import { deviceCoordinatesOf, deviceCoordinatesOption, withBlockOwners, type BlockOwnersArgs } from '../options/mapping.js';
import { withOutput, type OutputArgs } from '../options/output.js';
import { repeatable } from '../options/repeatable.js';
import { withTraces, type TracesArgs } from '../options/traces.js';

type MapArgs = TracesArgs &
  ImageArgs &
  BlockOwnersArgs &
  OutputArgs & {
    json: boolean;
    device: string[];
    'squashfs-dev': string[];
  };

export const mapCommand: CommandModule<object, MapArgs> = {
  command: 'map <traces..>',
  describe: 'Map traces (block reads, module events) to a file-level profile through an image',
  builder: (yargs: Argv) =>
    withBlockOwners(withOutput(withImage(withTraces(yargs, 'Traces in order: qemu log, blkparse text, *.blktrace.N, module events, map output'), { manifest: true })))
      .option('json', { type: 'boolean', default: false, describe: 'Write JSON instead of the bootprof-profile TSV' })
      .option('device', deviceCoordinatesOption('Coordinates of a device\'s offsets: ID=image (bytes of the image), ID=squashfs (inside the squashfs) or ID=skip (repeatable)'))
      .option('squashfs-dev', repeatable('Device ("7:0") whose inode numbers are the squashfs\'s, for events with an inode but no path (default: learned from the trace)'))
      .example('$0 map --image live.iso qemu-trace.log > profile.tsv', 'qemu block trace -> files')
      .example('$0 map --image live.iso --device 11,0=skip sr0.blkparse.txt loop0.blkparse.txt', 'choose a device') as Argv<MapArgs>,
  handler: async (args) => {
    // loaded when the command runs, not at start-up
    const { buildFileProfile, describeOwners, mapTrace, parseBlockOwners } = await import('../../map/index.js');
    const { openImageOrManifest } = await import('../../image/open-any.js');
    const { formatProfileTsv } = await import('../../trace/map-output-format.js');
    const { readTraces } = await import('../../trace/read.js');
    const overrides = deviceCoordinatesOf(args.device);
    const owners = parseBlockOwners(args['block-owners']);
    const traces = await readTraces(args.traces);
    const image = openImageOrManifest(args.image, squashfsPathOf(args));
    let mapped: MappedTrace[];
    try {
      mapped = traces.map((trace) =>
        mapTrace(trace, image.layout, {
          devices: overrides,
          owners,
          ...(args['squashfs-dev'].length > 0 ? { squashfsDevices: args['squashfs-dev'] } : {}),
        }),
      );
    } finally {
      image.close();
    }
    const profile = buildFileProfile(mapped);
    if (args.json) {
      const json = {
        format: 'bootprof-profile',
        version: 1,
        image: args.image,
        traces: mapped.map((m) => ({
          source: m.source,
          devices: m.devices,
          inodeDevices: m.inodeDevices,
          stats: m.stats,
          // weakPaths: the files left out (or kept, with --block-owners all) for want of evidence
          owners: m.owners,
        })),
        files: profile.rows.filter((r) => r.kind === 'file'),
        metadata: profile.rows.filter((r) => r.kind === 'metadata'),
        unmapped: profile.rows.find((r) => r.kind === 'unmapped') ?? null,
      };
      emitData(`${JSON.stringify(json, null, 2)}\n`, args.output);
    } else {
      emitData(formatProfileTsv(profile.rows), args.output);
    }

    for (const trace of traces) for (const n of trace.notes ?? []) note(`${trace.source}: ${n}`);
    for (const m of mapped) {
      for (const d of m.devices) note(`${m.source}: device ${d.id}: ${d.coordinates} (${d.reason}; ${d.reads} reads)`);
      const s = m.stats;
      if (s.unresolvedInodeEvents > 0) {
        note(
          `${m.source}: ${s.unresolvedInodeEvents} events with an inode but no path name no regular file of the image ` +
            `(symlinks, directories, other filesystems; devices taken as the squashfs: ${m.inodeDevices.join(', ') || 'none'})`,
        );
      }
      if (s.blockEvents > 0) {
        note(
          `${m.source}: ${s.blockEvents} block reads (${s.skippedBlockEvents} skipped): ${s.mappedBytes} bytes of files, ` +
            `${s.metadataBytes} of metadata, ${s.unmappedBytes} unmapped` +
            (s.incompleteBlocks > 0 ? ` (incl. parts of ${s.incompleteBlocks} blocks no read completed)` : ''),
        );
      }
      const ownersLine = describeOwners(m.source, m.owners);
      if (ownersLine !== undefined) note(ownersLine);
    }
    note(`${profile.files} files, ${profile.metadataReads} metadata reads, ${profile.unmappedReads} unmapped reads`);
  },
};
