#!/usr/bin/env node
// bench-live-build/after-sweep.mjs LAYOUT.json QEMU-TRACE [RANGES] [--all]: every CD read of a boot
// that the readahead sweep did not serve, mapped to what it read (a squashfs file, a squashfs
// table, an ISO structure or file), with the jump that led to it. LAYOUT.json is
// `bootprof inspect --json` of the booted ISO; RANGES its live/readahead.ranges. Prints TSV to
// stdout (i, phase, offset, length, jump, where, what) and a JSON summary to stderr; --all prints
// every read. The sweep is the run of reads inside the ranges that reads the most bytes.
// results.mjs imports analyse() for the figures in bench/results/live-build.md.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const FAR = 256 * 1024;

/**
 * The CD reads of a boot split into before / sweep / after. The sweep runs from the read that
 * starts the first range to the first read that reaches the end of the last one. A seek is a read
 * that does not start where the previous one ended; a far one jumps 256 KiB or more either way.
 */
export function analyse(layout, traceText, rangesText) {
  const base = layout.squashfsOffset ?? 0;
  const sqEnd = base + (layout.squashfsSize ?? 0);
  const reads = [];
  const bytes = new Map();
  for (const m of traceText.matchAll(/blk_co_preadv blk (\S+) bs \S+ offset (\d+) bytes (\d+)/g)) {
    reads.push({ dev: m[1], offset: Number(m[2]), length: Number(m[3]) });
    bytes.set(m[1], (bytes.get(m[1]) ?? 0) + Number(m[3]));
  }
  // The CD: the device with the most bytes read.
  const cd = [...bytes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const cdReads = reads.filter((r) => r.dev === cd);

  // The ranges in ISO coordinates: loopback lines shifted by the squashfs's offset, medium lines as is.
  const ranges = (rangesText ?? '')
    .split('\n')
    .filter((l) => /^-?\d+ \d+/.test(l))
    .map((l) => l.split(' '))
    .map(([o, n, w]) => {
      const off = Number(o);
      const start = w === 'medium' ? (off < 0 ? layout.size + off : off) : base + off;
      return [Math.floor(start / 4096) * 4096, start + Number(n)];
    })
    .sort((a, b) => a[0] - b[0]);
  const inRanges = (r) => ranges.some(([s, e]) => r.offset < e && r.offset + r.length > s);

  const extents = layout.extents;
  function at(offset) {
    let lo = 0;
    let hi = extents.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = extents[mid];
      if (offset < e.start) hi = mid - 1;
      else if (offset >= e.start + e.length) lo = mid + 1;
      else return e;
    }
    return undefined;
  }
  function what(r) {
    const seen = new Set();
    const out = [];
    for (let o = r.offset; o < r.offset + r.length; o += 4096) {
      const e = at(o);
      let s;
      if (!e) s = o >= base && o < sqEnd ? 'squashfs-gap' : 'iso-gap';
      else if (e.kind === 'data-block' || e.kind === 'iso-file') s = `${layout.files[e.file]?.path}#${e.block ?? 0}`;
      else if (e.kind === 'fragment-block') s = `frag${e.fragment}[${(e.files ?? []).slice(0, 3).map((f) => layout.files[f]?.path).join(',')}${(e.files ?? []).length > 3 ? ',...' : ''}]`;
      else s = e.kind;
      if (!seen.has(s)) {
        seen.add(s);
        out.push(s);
      }
    }
    return out.slice(0, 4).join(' ') + (out.length > 4 ? ` (+${out.length - 4})` : '');
  }
  const where = (r) => (inRanges(r) ? 'ranges' : r.offset >= base && r.offset < sqEnd ? 'loopback' : 'iso');

  // The sweep: the run of consecutive reads inside the ranges (or going on from the previous read:
  // the reader's own readahead past a range's end) that reads the most bytes: the reader's dd loop.
  // The kernel's and udev's probes of the medium before it also fall in the medium's windows, but
  // read little.
  let sweepFirst = -1;
  let sweepLast = -1;
  let best = 0;
  for (let i = 0; i < cdReads.length; ) {
    if (ranges.length === 0 || !inRanges(cdReads[i])) {
      i++;
      continue;
    }
    let j = i;
    let n = 0;
    // a read that goes on where the previous one ended is the sweep's own readahead past a range
    const goesOn = (k) => inRanges(cdReads[k]) || cdReads[k].offset === cdReads[k - 1].offset + cdReads[k - 1].length;
    while (j < cdReads.length && (j === i || goesOn(j))) n += cdReads[j++].length;
    if (n > best) [best, sweepFirst, sweepLast] = [n, i, j - 1];
    i = j;
  }
  let end = 0;
  const rows = [];
  cdReads.forEach((r, i) => {
    const jump = r.offset - end;
    end = r.offset + r.length;
    const phase = sweepLast < 0 ? 'all' : i < sweepFirst ? 'before' : i <= sweepLast ? 'sweep' : 'after';
    rows.push({ i, phase, ...r, jump, far: Math.abs(jump) >= FAR, seek: jump !== 0, where: where(r) });
  });
  const count = (p, f) => rows.filter((x) => x.phase === p && f(x)).length;
  const summary = {
    cdReads: cdReads.length,
    ranges: ranges.length,
      sweep: sweepLast < 0 ? null : { first: sweepFirst, last: sweepLast, bytes: best, backwardJumps: rows.filter((x) => x.phase === 'sweep' && x.jump < 0 && x.i > sweepFirst).length },
    before: { reads: count('before', () => true), seeks: count('before', (x) => x.seek), far: count('before', (x) => x.far) },
    sweepSeeks: { seeks: count('sweep', (x) => x.seek), far: count('sweep', (x) => x.far) },
    after: {
      reads: count('after', () => true),
      seeks: count('after', (x) => x.seek),
      far: count('after', (x) => x.far),
      farByWhere: Object.fromEntries(['ranges', 'loopback', 'iso'].map((w) => [w, count('after', (x) => x.far && x.where === w)])),
      readsByWhere: Object.fromEntries(['ranges', 'loopback', 'iso'].map((w) => [w, count('after', (x) => x.where === w)])),
    },
  };
  return { rows: rows.map((x) => ({ ...x, what: x.phase === 'after' || x.phase === 'all' ? what(x) : undefined })), summary };
  }

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [layoutPath, tracePath, rangesPath, flag] = process.argv.slice(2);
  if (!layoutPath || !tracePath) {
    process.stderr.write('usage: after-sweep.mjs LAYOUT.json QEMU-TRACE [RANGES] [--all]\n');
    process.exit(2);
  }
  const text = (p) => readFileSync(p, 'utf8');
  const { rows, summary } = analyse(JSON.parse(text(layoutPath)), text(tracePath), rangesPath ? text(rangesPath) : '');
  const show = flag === '--all' ? rows : rows.filter((x) => x.phase === 'after' || x.phase === 'all');
  process.stdout.write('i\tphase\toffset\tlength\tjump\twhere\twhat\n');
  for (const x of show) process.stdout.write(`${x.i}\t${x.phase}\t${x.offset}\t${x.length}\t${x.jump}\t${x.where}\t${x.what ?? ''}\n`);
  process.stderr.write(`${JSON.stringify(summary)}\n`);
}
