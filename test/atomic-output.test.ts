// kill -9 during `sort -o FILE`, `readahead -o FILE` and `report -o FILE`: FILE must hold either
// its old content or the complete new content, never a prefix. Kills land at random moments of
// the run, and (to be sure some hit the write itself) right after the temporary file appears.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { CLI, runCli } from './helpers/cli.js';
import { fileBytes } from './helpers/sample-tree.js';

const OLD = 'old content: must survive any kill\n';

interface Trial {
  killed: boolean;
  tmpSeenBeforeKill: boolean;
}

/** Runs the CLI, SIGKILLs it `delayMs` after start, or `afterTmpMs` after its temporary file appears. */
function killTrial(args: string[], target: string, when: { delayMs: number } | { afterTmpMs: number }): Promise<Trial> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    const dir = dirname(target);
    const prefix = `.${basename(target)}.`;
    let tmpSeen = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      tmpSeen ||= readdirSync(dir).some((n) => n.startsWith(prefix) && n.endsWith('.tmp'));
      child.kill('SIGKILL');
    };
    let poll: NodeJS.Timeout | undefined;
    if ('delayMs' in when) killTimer = setTimeout(kill, when.delayMs);
    else {
      poll = setInterval(() => {
        if (killTimer === undefined && readdirSync(dir).some((n) => n.startsWith(prefix) && n.endsWith('.tmp'))) {
          tmpSeen = true;
          killTimer = setTimeout(kill, when.afterTmpMs);
        }
      }, 1);
    }
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      clearTimeout(killTimer);
      resolve({ killed: signal === 'SIGKILL', tmpSeenBeforeKill: tmpSeen && signal === 'SIGKILL' });
    });
  });
}

/** Deterministic pseudo-random delays (a test must not depend on Math.random to reproduce). */
function delays(n: number, max: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.push(Math.floor((x / 2 ** 32) * max));
  }
  return out;
}

/** The report names the time it was generated: the only part that differs between two runs. */
const normalize = (b: Buffer): string => b.toString('utf8').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, 'TIME');

async function checkCommand(
  t: Test,
  name: string,
  argsFor: (out: string) => string[],
  dir: string,
  trials: { random: number; atWrite: number; mustHitWrite?: boolean },
): Promise<void> {
  // The complete new content, from an undisturbed run.
  const reference = join(dir, `${name}.reference`);
  const t0 = performance.now();
  const ok = runCli(argsFor(reference));
  const runtime = performance.now() - t0;
  t.equal(ok.status, 0, `${name} runs to completion (${ok.stderr.trim().split('\n').at(-1)})`);
  const expected = readFileSync(reference);
  t.ok(expected.length > 0, `${name} writes ${expected.length} bytes`);

  const target = join(dir, `${name}.out`);
  const plans = [
    ...delays(trials.random, Math.ceil(runtime * 1.1), name.length * 7919).map((delayMs) => ({ delayMs })),
    ...delays(trials.atWrite, 25, name.length * 104729).map((afterTmpMs) => ({ afterTmpMs })),
  ];
  let killed = 0;
  let killedMidWrite = 0;
  let old = 0;
  let complete = 0;
  for (const plan of plans) {
    writeFileSync(target, OLD);
    const r = await killTrial(argsFor(target), target, plan);
    const now = readFileSync(target);
    const isOld = now.toString() === OLD;
    const isNew = now.length > 0 && normalize(now) === normalize(expected);
    if (!isOld && !isNew) {
      t.fail(`${name}: after kill at ${JSON.stringify(plan)}, ${target} holds ${now.length} bytes: neither the old content nor the ${expected.length} new bytes`);
    }
    if (r.killed) killed++;
    if (r.tmpSeenBeforeKill) killedMidWrite++;
    if (isOld) old++;
    if (isNew) complete++;
    // A kill leaves the temporary file behind (nothing can remove it); it never has FILE's name.
    for (const n of readdirSync(dir)) if (n.startsWith(`.${name}.out.`) && n.endsWith('.tmp')) rmSync(join(dir, n));
  }
  t.equal(old + complete, plans.length, `${name}: ${plans.length} kills, FILE always old (${old}) or complete (${complete})`);
  t.ok(killed > 0, `${name}: ${killed} runs were really killed`);
  // Only the 8 MB sort file takes long enough to write for a 1 ms poll to be sure to catch it.
  if (trials.mustHitWrite) t.ok(killedMidWrite > 0, `${name}: ${killedMidWrite} kills landed while the temporary file was being written`);
  else t.comment(`${name}: ${killedMidWrite} kills landed while the temporary file was being written`);
}

t.test('kill -9 during sort -o never leaves a truncated file', async (t) => {
  const dir = t.testdir();
  // 120k paths: the sort file is ~8 MB, so the write itself takes a while.
  const list = join(dir, 'big.list');
  const lines: string[] = [];
  for (let i = 0; i < 120_000; i++) lines.push(`/usr/share/some/longer/directory/name/${i % 997}/file-number-${i}.dat`);
  writeFileSync(list, `${lines.join('\n')}\n`);
  await checkCommand(t, 'sort', (out) => ['sort', list, '-o', out], dir, { random: 6, atWrite: 6, mustHitWrite: true });
});

t.test('kill -9 during readahead -o and report -o never leaves a truncated file', async (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  const paths: string[] = [];
  for (let d = 0; d < 20; d++) {
    mkdirSync(join(root, `usr/lib/pkg${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) {
      const rel = `usr/lib/pkg${d}/lib${f}.so`;
      writeFileSync(join(root, rel), fileBytes(d * 1000 + f + 1, 200 + ((d * 37 + f * 101) % 50) * 300));
      paths.push(`/${rel}`);
    }
  }
  const image = join(dir, 'fs.squashfs');
  execFileSync('mksquashfs', [root, image, '-noappend', '-no-progress', '-quiet', '-b', '4096'], { stdio: 'ignore' });
  const profile = join(dir, 'bootlog.list');
  writeFileSync(profile, `${paths.filter((_, i) => i % 3 === 0).reverse().join('\n')}\n`);
  t.ok(existsSync(image), 'image built by mksquashfs');
  await checkCommand(t, 'readahead', (out) => ['readahead', '--image', image, profile, '-o', out], dir, { random: 4, atWrite: 4 });
  await checkCommand(t, 'report', (out) => ['report', '--image', image, profile, '-o', out], dir, { random: 4, atWrite: 4 });
});
