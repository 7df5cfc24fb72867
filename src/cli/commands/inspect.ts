import { once } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { Argv, CommandModule } from 'yargs';
import { dataOwner, type ExtentKind, type Layout } from '../../image/layout.js';
import type { OpenedImage } from '../../image/open.js';
import { jsonChunks } from '../../util/json-chunks.js';
import { emitData, emitDataPieces, progress, progressDone } from '../output.js';
import { squashfsPathOf, withImagePositional, type ImageArgs } from '../options/image.js';
import { withOutput, type OutputArgs } from '../options/output.js';

type InspectArgs = ImageArgs & OutputArgs & { json: boolean; files: boolean };

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect <image>',
  describe: 'Show the layout of an image: summary and per-file placement, or the Layout as JSON',
  builder: (yargs: Argv) =>
    withOutput(withImagePositional(yargs))
      .option('json', { type: 'boolean', default: false, describe: 'Print the Layout (every extent, every file) as JSON' })
      .option('files', { type: 'boolean', default: true, describe: 'List per-file rows (--no-files: summary only)' }) as Argv<InspectArgs>,
  handler: async (args) => {
    // loaded when the command runs, not at start-up
    const { openImageLazy } = await import('../../image/open-lazy.js');
    progress(`inspect: reading the layout of ${args.image}`);
    const image = await openImageLazy(args.image, { allowIsoOnly: true, ...squashfsPathOf(args) });
    progressDone();
    try {
      // the Layout of a big image is tens of MB of JSON: written in pieces, never one string
      if (args.json) {
        const released: Uint8Array[] = [];
        const pieces = withNewline<string | Uint8Array>(image.layoutJson?.(released) ?? jsonChunks(image.layout));
        if (args.output !== undefined && args.output !== '-') emitDataPieces(asText(pieces, released), args.output);
        else await writeWithBackpressure(pieces, released);
      }
      else emitData(renderText(image, args.files), args.output);
    } finally {
      image.close();
    }
  },
};

/**
 * Pieces to stdout, waiting for 'drain' when the stream's buffer is full: to a pipe whose reader
 * lags, writing on regardless queued the whole JSON in memory (100k files: +60 MiB peak). A byte
 * piece the stream wrote out at once (nothing left queued) goes back to `released`, to be reused.
 */
async function writeWithBackpressure(pieces: Iterable<string | Uint8Array>, released: Uint8Array[]): Promise<void> {
  for (const piece of pieces) {
    const flowing = process.stdout.write(piece);
    if (typeof piece !== 'string' && process.stdout.writableLength === 0) released.push(piece);
    if (!flowing) await once(process.stdout, 'drain');
  }
}

function* withNewline<T>(pieces: Iterable<T>): Generator<T | string> {
  yield* pieces;
  yield '\n';
}

/** UTF-8 pieces (cut anywhere, even inside a character) back to text, for the atomic file writer. */
function* asText(pieces: Iterable<string | Uint8Array>, released: Uint8Array[]): Generator<string> {
  const decoder = new StringDecoder('utf8');
  for (const piece of pieces) {
    if (typeof piece === 'string') yield decoder.end() + piece;
    else {
      // the decoder copies what it keeps (a character cut in two): the piece is free again
      const text = decoder.write(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      released.push(piece);
      yield text;
    }
  }
  yield decoder.end();
}

/** Summary, bytes by extent kind, then one row per regular file. */
export function renderText(image: OpenedImage, withFiles: boolean): string {
  const { layout } = image;
  const lines: string[] = [];
  lines.push(`image        ${layout.source} (${image.kind}, ${layout.size} bytes)`);
  if (image.iso) {
    lines.push(`iso          ${image.iso.namespace} names, ${image.iso.entries.length} entries${image.iso.joliet ? ', Joliet tree' : ''}`);
  }
  if (image.squashfs) {
    const sq = image.squashfs;
    const where = image.squashfsEntry ? `${image.squashfsEntry.path} at byte ${layout.squashfsOffset}` : 'whole file';
    lines.push(`squashfs     ${where}, ${layout.squashfsSize} bytes (${sq.superblock.bytesUsed} used)`);
    lines.push(`compressor   ${sq.compressor}, block size ${sq.blockSize}, ${sq.fragmentTable.length} fragment blocks`);
    const counts = new Map<string, number>();
    for (let i = 0; i < sq.table.length; i++) counts.set(sq.table.typeName(i), (counts.get(sq.table.typeName(i)) ?? 0) + 1);
    lines.push(`entries      ${sq.table.length} (${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')})`);
  }
  const shared = layout.files.filter((f) => f.sameDataAs !== undefined).length;
  lines.push(`files        ${layout.files.length} regular files in the layout, ${shared} share another file's data`);
  lines.push('');
  lines.push(table(['kind', 'extents', 'bytes'], byKind(layout).map(([k, n, b]) => [k, String(n), String(b)]), [false, true, true]));
  if (withFiles) {
    lines.push('');
    lines.push(table(['layer', 'path', 'size', 'first offset', 'blocks', 'fragment'], fileRows(layout, image.squashfsEntry?.path), [false, false, true, true, true, false]));
  }
  return `${lines.join('\n')}\n`;
}

function byKind(layout: Layout): [ExtentKind, number, number][] {
  const m = new Map<ExtentKind, [number, number]>();
  for (const e of layout.extents) {
    const c = m.get(e.kind) ?? [0, 0];
    c[0]++;
    c[1] += e.length;
    m.set(e.kind, c);
  }
  return [...m].map(([k, [n, b]]) => [k, n, b]);
}

/** One pass over the extents gathers, per file, its first offset, block count and fragment. */
function fileRows(layout: Layout, squashfsPath: string | undefined): string[][] {
  const n = layout.files.length;
  const first = new Float64Array(n).fill(Infinity);
  const blocks = new Uint32Array(n);
  const fragment: (string | undefined)[] = new Array<string | undefined>(n);
  for (const e of layout.extents) {
    if (e.file !== undefined && e.file < n) {
      if (e.start < first[e.file]!) first[e.file] = e.start;
      blocks[e.file]!++;
    }
    if (e.files !== undefined) {
      for (const f of e.files) {
        if (f >= n) continue;
        if (e.start < first[f]!) first[f] = e.start;
        fragment[f] = String(e.fragment ?? '?');
      }
    }
  }
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const f = layout.files[i]!;
    const j = dataOwner(layout, i);
    const off = first[j]!;
    rows.push([
      f.layer,
      f.sameDataAs !== undefined
        ? `${f.path} (= ${layout.files[f.sameDataAs]?.path ?? '?'})`
        : f.layer === 'iso' && f.path === squashfsPath
          ? `${f.path} (the squashfs)`
          : f.path,
      String(f.size),
      Number.isFinite(off) ? String(off) : f.layer === 'iso' && f.path === squashfsPath ? String(layout.squashfsOffset) : '-',
      String(blocks[j]),
      fragment[j] ?? '-',
    ]);
  }
  return rows;
}

/** Columns padded to their widest cell; names are printed as they are (one row per line). */
function table(head: string[], rawRows: string[][], right: boolean[]): string {
  const rows = rawRows.map((r) => r.map((c) => c.replace(/[\n\t]/g, (x) => (x === '\n' ? '\\n' : '\\t'))));
  const width = head.map((h) => h.length);
  for (const r of rows) for (let i = 0; i < r.length - 1; i++) width[i] = Math.max(width[i]!, r[i]!.length);
  const fmt = (r: string[]): string =>
    r.map((c, i) => (i === r.length - 1 ? c : right[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  const out = [fmt(head)];
  for (const r of rows) out.push(fmt(r));
  return out.join('\n');
}
