// inspect --json writes the Layout in pieces (issue 12): together they are JSON.stringify's text.
import t from 'tap';
import { jsonChunks } from '../src/util/json-chunks.js';

t.test('the pieces join to what JSON.stringify gives, whatever the piece size', (t) => {
  const value = {
    source: 'img "x"\n.sqfs',
    size: 12,
    skipped: undefined,
    files: Array.from({ length: 500 }, (_, i) => ({ path: `/d/f-${i}\u00e9`, size: i, sameDataAs: i % 7 === 0 ? i - 1 : undefined })),
    empty: [],
    holes: [1, undefined, null, 'x'],
    nested: { a: [1, 2], b: undefined },
    extents: [{ start: 0, length: 96, kind: 'superblock' }],
  };
  for (const size of [1, 10, 1000, 1 << 20]) {
    const pieces = [...jsonChunks(value, size)];
    t.equal(pieces.join(''), JSON.stringify(value), `pieces of ${size} characters`);
    if (size === 1000) t.ok(pieces.length > 10 && pieces.every((p) => p.length < 1100), 'no piece much over the size asked');
  }
  t.equal([...jsonChunks({})].join(''), '{}');
  t.end();
});
