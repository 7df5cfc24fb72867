#!/usr/bin/env node
// The figures the tests used to assert as time limits (issue 11 item 10): CPU and wall time of
// the trace parsers on a million lines each (qemu log, blkparse text, module events). Prints
// figures only; test/trace-{qemu,blkparse,kmod-events}.test.ts check that the same inputs parse
// whole. Needs dist/ (npm run build). BENCH_LINES=N changes the size.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const dist = join(fileURLToPath(new URL('..', import.meta.url)), 'dist');
const load = (rel) => import(join(dist, rel));
const N = Number(process.env.BENCH_LINES ?? 1_000_000);

function measure(label, fn) {
  global.gc?.();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const result = fn();
  const wall = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  console.log(`${label.padEnd(46)} ${(wall / 1000).toFixed(2).padStart(7)} s wall ${((cpu.user + cpu.system) / 1e6).toFixed(2).padStart(7)} s CPU`);
  return result;
}

const lines = (make) => {
  const out = [];
  for (let i = 0; i < N; i++) out.push(make(i));
  return Buffer.from(`${out.join('\n')}\n`);
};

const { parseQemuLog } = await load('trace/qemu.js');
const qemu = lines((i) => {
  const off = ((i * 7919) % 300_000) * 2048;
  return `12345@${1795632211 + Math.floor(i / 1000)}.${String((i * 997) % 1_000_000).padStart(6, '0')}:blk_co_preadv blk 0x55d5c7b0e8a0 bs 0x55d5c7b15000 offset ${off} bytes 4096 flags 0x0`;
});
measure(`qemu log, ${N} lines (${(qemu.length / 1e6).toFixed(0)} MB)`, () => parseQemuLog(qemu, 'big.log'));

const { parseBlkparse } = await load('trace/blkparse.js');
const blk = lines((i) => `  7,0    0 ${String(i + 1).padStart(8)} ${(i / 1000).toFixed(9).padStart(14)}   211  D  RS ${(i * 8) % 9999999} + 8 [md5sum]`);
measure(`blkparse text, ${N} lines (${(blk.length / 1e6).toFixed(0)} MB)`, () => parseBlkparse(blk, 'big.txt'));

const { parseKmodEvents } = await load('trace/kmod-events.js');
const header = '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath';
const kmod = Buffer.concat([
  Buffer.from(`${header}\n`),
  lines((i) => `${i}\t${7e9 + i * 1000}\tfault\t${100 + (i % 50)}\tbash\t7:0\t${i % 5000}\t${(i % 100) * 4096}\t4096\t/usr/lib/x86_64-linux-gnu/libc.so.${i % 300}`),
]);
try {
  measure(`module events, ${N} lines (${(kmod.length / 1e6).toFixed(0)} MB)`, () => parseKmodEvents(kmod, 'big.tsv'));
} catch (err) {
  console.log(`module events: ${err.message} (the header of this bench is out of date with src/trace/kmod-events.ts)`);
}
