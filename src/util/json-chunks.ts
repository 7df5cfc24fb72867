/**
 * JSON.stringify(value) for an object with big arrays (a Layout of 100k files), in pieces of about
 * `chunkChars` characters: the whole text is never one string. The pieces join to exactly what
 * JSON.stringify gives (plain data: no toJSON, no replacer).
 */
export function* jsonChunks(value: object, chunkChars = 1 << 20): Generator<string> {
  let buffer = '{';
  let firstKey = true;
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue; // as JSON.stringify
    buffer += `${firstKey ? '' : ','}${JSON.stringify(key)}:`;
    firstKey = false;
    if (!Array.isArray(field)) {
      buffer += JSON.stringify(field);
      continue;
    }
    buffer += '[';
    for (let i = 0; i < field.length; i++) {
      const item: unknown = field[i];
      buffer += `${i > 0 ? ',' : ''}${JSON.stringify(item) ?? 'null'}`;
      if (buffer.length >= chunkChars) {
        yield buffer;
        buffer = '';
      }
    }
    buffer += ']';
  }
  yield `${buffer}}`;
}
