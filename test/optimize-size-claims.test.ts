/**
 * A file read from an image is planned by the blocks the image stores, never block by block from
 * its size: sparse blocks hold nothing, and a manifest may claim a 2-4 GiB file in a 100 KiB
 * image (fuzz finding, issue 11). Before, each candidate layout placed every 4 KiB block of the
 * claim (486,400 of them for 1900 MiB): 12 s of CPU and 350 MB, a "hang" on a loaded machine.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { predictLayout } from '../src/optimize/predict-layout.js';
import { universeFromLayout, type Universe } from '../src/optimize/universe.js';
import { CLI } from './helpers/cli.js';
import { syntheticLayout } from './helpers/synthetic-layout.js';

const B = 4096;
const GiB = 1024 * 1024 * 1024;

/** Data-block extents the predicted layout gives the planned file named `rel`. */
function placedBlocks(u: Universe, rel: string, blockSize: number): number {
  const predicted = predictLayout(u, { order: [], placement: 'beginning', unfragmented: new Set(), blockSize });
  const slot = predicted.layout.files.findIndex((f) => f.path === `/${rel}`);
  return predicted.layout.extents.filter((e) => e.kind === 'data-block' && e.file === slot).length;
}

t.test('a size claim past the stored blocks places only the stored blocks', async (t) => {
  const layout = syntheticLayout([
    { path: '/etc/a', size: 3 * B + 100 },
    { path: '/etc/sparse', size: 2 * B },
    { path: '/etc/small', size: 300 },
  ], { blockSize: B });
  const plain = universeFromLayout(layout, ['etc/a', 'etc/sparse', 'etc/small']);
  t.equal(placedBlocks(plain, 'etc/a', B), 3, 'as stored: 3 blocks (the tail is in a fragment)');
  t.equal(placedBlocks(plain, 'etc/a', 2 * B), 2, 'at twice the block size: 2 blocks, the tail in a block of its own');

  // the same image, claiming a 1 GiB file (all sparse past its blocks) and a 4 GiB one
  const sparse = layout.files.findIndex((f) => f.path === '/etc/sparse');
  const small = layout.files.findIndex((f) => f.path === '/etc/small');
  layout.files[sparse]!.size = GiB;
  layout.files[small]!.size = 4 * GiB;
  const claimed = universeFromLayout(layout, ['etc/a', 'etc/sparse', 'etc/small']);
  t.equal(placedBlocks(claimed, 'etc/sparse', B), 2, 'its 2 stored blocks, not 262,144');
  t.equal(placedBlocks(claimed, 'etc/small', B), 0, 'a claim with no stored block places none');
  t.ok(placedBlocks(claimed, 'etc/sparse', 8 * B) <= 1, 'at another block size: the stored bytes, not the claim');
  t.ok(placedBlocks(claimed, 'etc/small', 8 * B) <= 1);
  t.equal(placedBlocks(claimed, 'etc/a', 2 * B), 2, 'the other files are planned as before');
});

t.test('files known only by their size (a root) are still planned from it', async (t) => {
  const u: Universe = {
    files: [{ rel: 'big', size: 5 * B + 1, ratio: 0.5, walkRank: 0 }],
    byRel: new Map([['big', 0]]),
    rest: { files: 0, dataBytes: 0, tailBytes: 0, ratio: 0.5 },
    metadata: { inode: 100, directory: 100, other: 10 },
    prefixBytes: 0,
    baseBlockSize: B,
    totalFiles: 1,
    source: 'root',
  };
  t.equal(placedBlocks(u, 'big', B), 6, '5 full blocks and the tail');
});

t.test('sort --image on the fuzz manifest answers within a small heap', async (t) => {
  const dir = new URL('./fixtures/fuzz-regressions/', import.meta.url).pathname;
  // 1900 MiB claimed: under the 2^19-block limit, so nothing refuses it before the planner
  const res = spawnSync(process.execPath, [
    '--max-old-space-size=128', CLI, 'sort', '--image', `${dir}sort-manifest-e4472ed7e35eeb38.bin`, `${dir}aux/sqfs-raw.events.tsv`,
  ], { encoding: 'utf8' });
  t.equal(res.status, 0, res.stderr.slice(-2000));
  t.match(res.stdout, /usr\/share\/doc\/f10\.txt/, 'the claimed file is in the sort file');
});
