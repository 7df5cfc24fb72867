import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { PlanCost } from '../../optimize/objective.js';
import { codeShare, compressorOptions, ELF_HEADER_BYTES } from '../../optimize/code-filter.js';
import type { fileChunks as FileChunks } from '../../image/file-content.js';
import type { Layout } from '../../image/layout.js';
import type { OpenedImage } from '../../image/open.js';
import type { Universe } from '../../optimize/universe.js';
import type { SelectedFile } from '../../profile/select.js';
import { InputError } from '../../errors.js';
import type { TuneResult, TuneRow } from '../../optimize/tune.js';
import type { TreeView } from '../../tree/tree-view.js';
import { DEFAULT_READAHEAD_BYTES } from '../../sim/page-cache.js';
import { emitData, note, progress, progressDone } from '../output.js';
import { deviceOf, withDevice, type DeviceArgs } from '../options/device.js';
import { openImageOrRoot, withImageOrRoot, type ImageOrRootArgs } from '../options/image.js';
import { withOutput, type OutputArgs } from '../options/output.js';
import { excludesOf, withProfileFilters, type ProfileFilterArgs } from '../options/profile-filters.js';
import { withTraces, type TracesArgs } from '../options/traces.js';
import { noteTraceLosses } from '../trace-losses.js';

type TuneArgs = TracesArgs &
  ImageOrRootArgs &
  DeviceArgs &
  ProfileFilterArgs &
  OutputArgs & {
    json: boolean;
    rebuild: boolean;
    'mksquashfs-args': string;
    comp?: string;
  };

export const tuneCommand: CommandModule<object, TuneArgs> = {
  command: 'tune <traces..>',
  describe: 'Predict boot I/O time and image size for each block size; print the winner\'s "-b N" (stdout, one line) for mksquashfs and bootprof sort',
  builder: (yargs: Argv) =>
    withOutput(withProfileFilters(withDevice(withImageOrRoot(withTraces(yargs, 'Boot profiles (one per boot), any capture format'), { required: true }))))
      .option('rebuild', {
        type: 'boolean',
        default: false,
        describe: 'Check the prediction: build the winner (and the plan at the default block size) with real mksquashfs from --root and cost the real images',
      })
      .option('mksquashfs-args', { type: 'string', nargs: 1, default: '', describe: 'More mksquashfs options for --rebuild builds, written with "=": --mksquashfs-args="-comp xz"' })
      .option('comp', {
        type: 'string',
        describe:
          'The compressor the image is built with (mksquashfs -comp; default: the image\'s, else -comp in --mksquashfs-args, else gzip): with xz, the line gains -Xbcj FILTER when the boot reads mostly machine code',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print every candidate as JSON on stdout instead of the options line' })
      .example('OPTS=$($0 tune --root chroot events.tsv)', 'e.g. "-b 262144": give it to both `bootprof sort $OPTS ...` and `mksquashfs ... $OPTS`') as Argv<TuneArgs>,
  handler: async (args) => {
    const device = deviceOf(args);
    if (args.rebuild && args.root === undefined) throw new InputError('--rebuild needs --root (the tree to build the image from)');
    const { tree, layout, opened } = await openImageOrRoot(args);
    try {
      if (tree === undefined) throw new InputError('give --image or --root');
      // the optimizer is loaded here, when tune runs, not at start-up
      const { readTraces } = await import('../../trace/read.js');
      const { tuneProfiles } = await import('../../optimize/tune.js');
      const traces = await readTraces(args.traces);
      noteTraceLosses(traces);
      const excludes = excludesOf(args);
      const result = tuneProfiles({
        traces,
        tree,
        ...(layout !== undefined ? { image: layout } : { root: args.root! }),
        excludes,
        stripPrefixes: args['strip-prefix'],
        merge: args.merge,
        device,
        kernel: { readaheadBytes: DEFAULT_READAHEAD_BYTES },
        onStep: (n) => progress(`tune: ${n} layouts costed`),
      });
      const { universe, boots, selection } = result;
      progressDone();
      note(`predicted on ${device.name}, ${universe.files.length} profiled files, ${boots.length} boot(s)${universe.source === 'root' ? ' (sizes from --root, compression sampled)' : ''}:`);
      for (const line of formatTable(result.rows, result.winner)) note(line);
      const compressor = compressorOf(args, layout);
      const fileChunks = opened !== undefined && compressor === 'xz' ? (await import('../../image/file-content.js')).fileChunks : undefined;
      const readHeader = (rel: string): Buffer | undefined =>
        opened !== undefined
          ? fileChunks && imageFileHeader(fileChunks, opened, `/${rel}`, ELF_HEADER_BYTES)
          : args.root !== undefined
            ? hostFileHeader(join(args.root, rel), ELF_HEADER_BYTES)
            : undefined; // a manifest (inspect --json) holds no file contents
      const extra = compressorOptions(compressor, () =>
        codeShare(
          universe.files.map((f) => f.size),
          (i) => readHeader(universe.files[i]!.rel),
        ),
      );
      if (extra !== undefined) note(`${extra.options.join(' ')}: ${extra.reason}`);
      const line = [...result.winner.options, ...(extra?.options ?? [])];
      const checks = args.rebuild ? await rebuildChecks(args, tree, universe, selection.files, result) : [];
      if (args.json) {
        const json = {
          device: device.id,
          winner: rowJson(result.winner),
          options: line,
          compressor,
          candidates: result.rows.map(rowJson),
          ...(args.rebuild ? { rebuilt: checks.map((c) => ({ name: c.name, predicted: rowJson(c.row), built: costJson(c.cost) })) } : {}),
        };
        emitData(`${JSON.stringify(json, null, 2)}\n`, args.output);
      } else {
        emitData(`${line.join(' ')}\n`, args.output);
      }
    } finally {
      opened?.close(); // the image's file: an in-process caller (the fuzzer) would keep it open
    }
  },
};

async function rebuildChecks(
  args: TuneArgs,
  tree: TreeView,
  universe: Universe,
  files: readonly SelectedFile[],
  result: TuneResult,
): Promise<{ name: string; row: TuneRow; cost: PlanCost }[]> {
  const rows: [string, TuneRow][] = [['winner', result.winner]];
  const base = result.rows.find((r) => r.chosen && r.blockSize === universe.baseBlockSize);
  if (base !== undefined && base !== result.winner) rows.push(['plan at the default block size', base]);
  const workDir = mkdtempSync(join(tmpdir(), 'bootprof-tune-'));
  try {
    const input = {
      root: args.root!,
      universe,
      selected: new Map(files.map((f) => [f.rel, f])),
      objective: result.objective,
      workDir,
      extraArgs: args['mksquashfs-args'].split(/\s+/).filter((a) => a !== ''),
      topLevel: tree.topLevel(),
    };
    const out: { name: string; row: TuneRow; cost: PlanCost }[] = [];
    for (const [name, row] of rows) {
      progress(`tune: building ${name} with mksquashfs`);
      const { rebuildRow } = await import('../../optimize/rebuild.js');
      const built = await rebuildRow(input, row, `candidate-${out.length}`);
      progressDone();
      out.push({ name, row, cost: built.cost });
      const mb = (n: number): string => (n / 1048576).toFixed(2);
      note(
        `rebuilt ${name} (${row.options.join(' ') || 'default block size'}): est. ${(built.cost.ms / 1000).toFixed(2)} s (predicted ${(row.cost.ms / 1000).toFixed(2)}), ` +
          `far seeks ${built.cost.farSeeks.toFixed(1)} (predicted ${row.cost.farSeeks.toFixed(1)}), squashfs ${mb(built.cost.squashfsBytes)} MiB (predicted ${mb(row.cost.squashfsBytes)})`,
      );
    }
    return out;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The compressor the image will be built with: --comp, the image's, -comp in --mksquashfs-args, else mksquashfs's default. */
function compressorOf(args: TuneArgs, layout: Layout | undefined): string {
  if (args.comp !== undefined) return args.comp;
  if (layout?.compressor !== undefined) return layout.compressor;
  const words = args['mksquashfs-args'].split(/\s+/);
  const i = words.indexOf('-comp');
  return (i >= 0 ? words[i + 1] : undefined) ?? 'gzip';
}

/** The first `n` bytes of a file of the host tree, or undefined when unreadable or shorter. */
function hostFileHeader(path: string, n: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(n);
    return readSync(fd, buf, 0, n, 0) === n ? buf : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The first `n` bytes of a file of the image (its first block decompressed), or undefined. */
function imageFileHeader(fileChunks: typeof FileChunks, image: OpenedImage, path: string, n: number): Buffer | undefined {
  try {
    const content = fileChunks(image, path, 'squashfs');
    const parts: Buffer[] = [];
    let have = 0;
    for (const chunk of content.chunks) {
      parts.push(chunk);
      have += chunk.length;
      if (have >= n) break;
    }
    return have >= n ? Buffer.concat(parts).subarray(0, n) : undefined;
  } catch {
    return undefined;
  }
}

function costJson(c: PlanCost): object {
  return { seconds: c.ms / 1000, bytesRead: c.bytes, seeks: c.seeks, farSeeks: c.farSeeks, squashfsBytes: c.squashfsBytes };
}

function rowJson(r: TuneRow): object {
  return {
    blockSize: r.blockSize,
    placement: r.placement,
    unfragmented: r.unfragmented,
    options: r.options,
    predicted: costJson(r.cost),
  };
}

function formatTable(rows: readonly TuneRow[], winner: TuneRow): string[] {
  const header = ['block', 'placement', 'boot files', 'est. s', 'MiB read', 'far seeks', 'squashfs MiB', ''];
  const body = rows.map((r) => [
    String(r.blockSize / 1024) + 'K',
    r.placement,
    r.unfragmented ? 'no-fragments' : 'in fragments',
    (r.cost.ms / 1000).toFixed(2),
    (r.cost.bytes / 1048576).toFixed(2),
    r.cost.farSeeks.toFixed(1),
    (r.cost.squashfsBytes / 1048576).toFixed(2),
    r === winner ? '<- winner' : r.chosen ? 'plan' : '',
  ]);
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}
