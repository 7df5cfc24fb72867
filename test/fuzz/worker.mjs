// Fuzz worker: a child process (forked with a heap cap) that runs one step at a time on an input
// file and reports how it ended. Steps call the library in-process: the parsers directly, and the
// real command handlers (inspect, map, sort --image, readahead, verify) through yargs, with stdout
// and stderr swallowed. The parent enforces the time limit and kills us on a hang.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.BOOTPROF_FUZZ_DIST;
if (!dist) throw new Error('BOOTPROF_FUZZ_DIST not set');
const load = (rel) => import(pathToFileURL(join(dist, rel)).href);

const [errors, source, squashfs, iso, open, content, manifest, read, map, commandsIndex, yargsMod, decompress] = await Promise.all([
  load('errors.js'),
  load('image/source.js'),
  load('image/squashfs/index.js'),
  load('image/iso9660/index.js'),
  load('image/open.js'),
  load('image/file-content.js'),
  load('image/manifest.js'),
  load('trace/parse-whole.js'),
  load('map/index.js'),
  load('cli/commands/index.js'),
  import('yargs'),
  load('image/decompress/index.js'),
]);
const yargs = yargsMod.default;
// report loads d3-node and jsdom on first use (about a second): load them before the clock starts.
await load('report/render.js');
// the command handlers import their pipelines on first use (start-up): load those before the clock too
await Promise.all(
  ['image/open-any.js', 'tree/host-tree.js', 'optimize/inputs.js', 'optimize/sort-plan.js', 'emit/sort-file.js', 'emit/gensquashfs-sort.js', 'emit/draklive.js', 'emit/action-file.js', 'emit/readahead-plan.js', 'emit/readahead.js', 'emit/readahead-ranges.js', 'image/verify.js', 'formats/action-file.js', 'trace/map-output-format.js'].map(load),
);

// Command output goes nowhere; we only care how the command ends.
let swallowed = 0;
/** stdout of the current step, kept only when the step checks it (the HTML report). */
let captured;
const sink = (keep) => (chunk, enc, cb) => {
  swallowed += chunk?.length ?? 0;
  if (keep && captured !== undefined) captured.push(String(chunk));
  if (typeof enc === 'function') enc();
  else if (typeof cb === 'function') cb();
  return true;
};
process.stdout.write = sink(true);
// stderr notes are plain text (paths as they are): never part of the markup check.
process.stderr.write = sink(false);

class UsageError extends Error {}

/** What selftest-grow keeps. */
const grown = [];

/**
 * yargs takes ~30 ms to build a parser with every command, more than most steps: parse each argv
 * once (the input path is the same file for every input of a worker) and call the handler with
 * a copy of the parsed arguments afterwards.
 */
const parsed = new Map();

async function runCli(argv) {
  const key = JSON.stringify(argv);
  let hit = parsed.get(key);
  if (hit === undefined) {
    let captured;
    let parser = yargs(argv)
      .scriptName('bootprof')
      .strict()
      .exitProcess(false)
      .demandCommand(1)
      .fail((msg, err) => {
        if (err) throw err;
        throw new UsageError(msg);
      });
    for (const command of commandsIndex.commands) {
      parser = parser.command({ ...command, handler: (args) => (captured = { command, args }) });
    }
    await parser.parseAsync();
    if (captured === undefined) throw new UsageError(`no command ran for ${key}`);
    hit = captured;
    parsed.set(key, hit);
  }
  const args = {};
  for (const [k, v] of Object.entries(hit.args)) args[k] = Array.isArray(v) ? [...v] : v;
  await hit.command.handler(args);
}

const MAX_CAT = 2 * 1024 * 1024;

function consume(chunks) {
  let n = 0;
  for (const c of chunks) {
    n += c.length;
    if (n > MAX_CAT) break;
  }
  return n;
}

/** Library-level steps (no CLI): the parsers and readers on their own. */
const libSteps = {
  'squashfs'(file) {
    const img = squashfs.openSquashfs(new source.BufferSource(file, readFileSync(file)));
    squashfs.squashfsLayout(img, 0);
    let n = 0;
    for (const e of img.entries) {
      img.lookup(e.path);
      if (e.type === 'file' && n++ < 20) {
        if (e.size <= 1024 * 1024) squashfs.readFile(img, e);
        else consume(squashfs.fileChunks(img, e));
      }
    }
  },
  'iso9660'(file) {
    const image = iso.openIso(new source.BufferSource(file, readFileSync(file)));
    iso.isoLayout(image);
    for (const e of image.entries.slice(0, 50)) image.lookup(e.path);
  },
  'cat'(file) {
    const image = open.openImage(file, { allowIsoOnly: true });
    try {
      const entries = image.squashfs ? image.squashfs.entries : image.iso?.entries ?? [];
      let n = 0;
      for (const e of entries) {
        if (e.type !== 'file' && e.type !== 'symlink') continue;
        if (n++ >= 15) break;
        try {
          consume(content.fileChunks(image, e.path).chunks);
        } catch (err) {
          // A missing or non-regular target is an ordinary outcome of a damaged tree.
          if (!(err instanceof errors.BootprofError)) throw err;
        }
      }
    } finally {
      image.close();
    }
  },
  'trace-parse'(file) {
    read.parseTrace(readFileSync(file), file);
  },
  'trace-parsers'(file) {
    // Every parser whose detector accepts the bytes, whatever parseTrace would pick.
    const bytes = readFileSync(file);
    const head = bytes.subarray(0, 65536);
    for (const p of read.traceParsers) {
      if (!p.detect(head)) continue;
      try {
        p.parse(bytes, file);
      } catch (err) {
        if (!(err instanceof errors.BootprofError)) throw Object.assign(err, { parser: p.format });
      }
    }
  },
  'map-manifest'(file, step) {
    const layout = manifest.readLayoutManifest(step.manifest);
    const trace = read.parseTrace(readFileSync(file), file);
    const mapped = map.mapTrace(trace, layout, {});
    map.buildFileProfile([mapped]);
    map.blockEventsToFileEvents(trace, layout);
  },
  'decompress'(file, step) {
    try {
      const out = decompress.decompressorFor(step.compressor)(readFileSync(file), step.maxOutput);
      if (out.length > step.maxOutput) throw new Error(`decompressor returned ${out.length} bytes, more than the ${step.maxOutput} allowed`);
    } catch (err) {
      // The decompressors' own error type; the squashfs reader wraps it into a FormatError.
      if (err instanceof decompress.DecompressError) throw new errors.FormatError(file, 0, err.message);
      throw err;
    }
  },
  'manifest'(file) {
    manifest.readLayoutManifest(file);
  },
  // Self-checks of the harness: each must be reported as a failure.
  'selftest-crash'() {
    return null.property;
  },
  'selftest-hang'() {
    for (;;);
  },
  'selftest-heap'() {
    const keep = [];
    for (;;) keep.push(new Array(1e5).fill({ x: keep.length }));
  },
  'selftest-rss'() {
    return Buffer.alloc(600 * 1024 * 1024, 1).length;
  },
  // keeps 64 MiB per call: the worker's lifetime peak passes the limit, no one call does
  'selftest-grow'() {
    grown.push(Buffer.alloc(64 * 1024 * 1024, 1));
  },
};

process.on('message', async (msg) => {
  if (msg.type !== 'run') return;
  const { step } = msg;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let outcome = 'ok';
  let error;
  try {
    captured = step.checkMarkup ? [] : undefined;
    if (step.argv) await runCli(step.argv);
    else await libSteps[step.kind ?? step.target](step.file, step);
    if (captured !== undefined) {
      // Paths from the trace must reach the page escaped: the mutator plants these in traces.
      const page = captured.join('');
      for (const bad of ['<script>alert(1)', '<img src=x onerror=alert(1)>', '<svg onload=alert(1)>']) {
        if (page.includes(bad)) throw new Error(`unescaped markup in ${step.target} output: ${bad}`);
      }
    }
  } catch (err) {
    if (err instanceof errors.BootprofError) {
      outcome = 'typed';
      error = `${err.name} ${err.code}: ${String(err.message).slice(0, 300)}`;
    } else {
      outcome = 'crash';
      error = `${err?.stack ?? String(err)}${err?.parser ? ` (parser ${err.parser})` : ''}`.slice(0, 4000);
    }
  }
  const cpu = process.cpuUsage(cpu0);
  process.send({
    type: 'done',
    id: msg.id,
    outcome,
    error,
    ms: performance.now() - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssKiB: process.resourceUsage().maxRSS,
  });
});

process.send({ type: 'ready' });
