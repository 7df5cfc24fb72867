import { deflateSync, inflateSync } from 'node:zlib';
import t from 'tap';
import { ZlibInflater } from '../src/image/decompress/zlib-into.js';

// The reused zlib handle must accept and refuse exactly what inflateSync with maxOutputLength
// does, and keep working after a refused block.
const outcome = (f: () => number): string => {
  try {
    return `ok ${f()}`;
  } catch (err) {
    return `error ${(err as Error).message.replace(/^zlib: /, '').replace(/^Cannot create a Buffer larger than (\d+) bytes.*/, 'zlib output exceeds $1 bytes')}`;
  }
};

t.test('ZlibInflater agrees with inflateSync, block after block', (t) => {
  const z = new ZlibInflater();
  const text = Buffer.from('squashfs metadata block '.repeat(300)); // 7200 bytes
  const good = deflateSync(text);
  const flipped = Buffer.from(good);
  flipped[6] = flipped[6]! ^ 0xff;
  const badCheck = Buffer.from(good);
  badCheck[badCheck.length - 1] = badCheck[badCheck.length - 1]! ^ 0xff;
  const cases: [string, Buffer, number][] = [
    ['whole', good, 8192],
    ['exact limit', good, 7200],
    ['one byte over the limit', good, 7199],
    ['much longer than the limit', deflateSync(Buffer.alloc(50_000, 7)), 8192],
    ['truncated', good.subarray(0, good.length - 5), 8192],
    ['cut to its header', good.subarray(0, 2), 8192],
    ['corrupt', flipped, 8192],
    ['bad checksum', badCheck, 8192],
    ['not zlib', Buffer.from([1, 2, 3, 4, 5]), 8192],
    ['empty', Buffer.alloc(0), 8192],
    ['trailing bytes', Buffer.concat([good, Buffer.from('junk')]), 8192],
    ['whole again', good, 8192],
  ];
  const out = Buffer.alloc(9000);
  let refused = 0;
  for (const [name, input, max] of cases) {
    out.fill(0);
    const ours = outcome(() => z.inflateInto(input, out, 100, max));
    const theirs = outcome(() => inflateSync(input, { maxOutputLength: max }).length);
    t.equal(ours, theirs, name);
    if (ours.startsWith('error')) refused++;
    else t.same(out.subarray(100, 100 + Number(ours.slice(3))), text.subarray(0, Number(ours.slice(3))), `${name}: the bytes`);
    t.equal(out.subarray(100 + max).every((b) => b === 0), true, `${name}: nothing written past the limit`);
  }
  t.equal(refused, 8, 'the bad blocks are refused');
  z.close();
  t.end();
});
