/**
 * deflatedLengths (src/optimize/deflate-size.ts) must give deflateRawSync's lengths exactly: they
 * are the compression ratios `sort --root` and `tune --root` plan with. Inputs of every kind and
 * length up to the sample size, given in random order (the function sorts them), and the case that
 * tells a reused zlib state from a new one: a long input, then a shorter one that starts the same.
 */
import t from 'tap';
import { deflateRawSync } from 'node:zlib';
import { deflatedLengths, SAMPLE_LEVEL } from '../src/optimize/deflate-size.js';
import { mulberry32 } from '../src/sim/prng.js';

const reference = (views: readonly Uint8Array[]): number[] => views.map((v) => deflateRawSync(v, { level: SAMPLE_LEVEL }).length);

function randomInput(random: () => number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const kind = Math.floor(random() * 5);
  const words = ['lib', 'usr', 'share', '\n', ' ', 'ELF', '\0\0\0\0', 'systemd', '0123', 'x86_64'];
  let i = 0;
  while (i < length) {
    if (kind === 0) b[i++] = Math.floor(random() * 256); // incompressible
    else if (kind === 1) i += b.write(words[Math.floor(random() * words.length)]!, i); // text-like
    else if (kind === 2) b[i++] = 0; // zeros
    else if (kind === 3) b[i++] = random() < 0.9 ? 0x41 + (i % 7) : Math.floor(random() * 256); // mostly periodic
    else i += b.write(`${i} line of file ${Math.floor(random() * 50)}\n`, i);
  }
  return b;
}

t.test('deflatedLengths gives deflateRawSync lengths, inputs in any order', (t) => {
  const random = mulberry32(42);
  let batches = 0;
  for (let round = 0; round < 40; round++) {
    const views: Uint8Array[] = [];
    const count = 1 + Math.floor(random() * 150);
    for (let i = 0; i < count; i++) {
      const length = random() < 0.05 ? Math.floor(random() * 4) : 1 + Math.floor(random() * 16384);
      const input = randomInput(random, length);
      // views into one arena, as universe.ts reads its samples
      views.push(random() < 0.5 ? input : Buffer.concat([Buffer.alloc(7), input]).subarray(7));
    }
    const got = deflatedLengths(views);
    const want = reference(views);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.same(got, want, `round ${round}`);
      break;
    }
    batches++;
  }
  t.equal(batches, 40, '40 batches of up to 150 inputs agree');
  t.end();
});

t.test('a shorter input after a longer one that starts the same (what one zlib state, reused, gets wrong)', (t) => {
  // files of a generated tree (the same line repeated, cut to the file's size) after a 16 KiB
  // sample of the same file: on x86-64, a reused state gives these a length one byte off
  const views: Uint8Array[] = [];
  for (const [i, size] of [[326, 2094], [514, 10866], [1688, 7772], [2776, 3644]] as const) {
    const line = `${i} some text of file ${i}\n`;
    const long = Buffer.from(line.repeat(Math.ceil(16384 / line.length)).slice(0, 16384));
    views.push(long, long.subarray(0, size));
  }
  t.same(deflatedLengths(views), reference(views));
  t.same(deflatedLengths([]), [], 'no input');
  t.end();
});
