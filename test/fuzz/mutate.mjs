// Mutations: generic byte damage plus format-aware ones (extreme values in known header fields,
// loops in directories and metadata references, line-level damage for text traces).

/** xorshift128+-ish 32-bit PRNG (sfc32): fast, seedable, reproducible across runs. */
export function makeRng(seed) {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162 ^ Math.imul(seed, 0xc2b2ae35);
  let d = 1;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  const rng = {
    float: next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
  return rng;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

function extremes(size, len, current) {
  const max = size === 8 ? 2 ** 64 - 1 : 2 ** (8 * size) - 1;
  const vals = [0, 1, 2, 3, 7, 8, 255, max, max - 1, 2 ** (8 * size - 1), 2 ** (8 * size - 1) - 1, len, len - 1, len + 1, len - 96, len * 2,
    current + 1, current - 1, current * 2, current + 2048, current + 8192, Math.floor(current / 2), 0x7fff, 0x8000, 0xffff, 0x10000, 0x1fffff,
    0x1000000, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 32, 2 ** 53, 2 ** 53 + 2];
  return vals.filter((v) => v >= 0 && v <= max);
}

function writeField(buf, off, size, value, be) {
  if (off === undefined || off < 0 || off + size > buf.length) return false;
  if (size === 1) buf[off] = value & 0xff;
  else if (size === 2) be ? buf.writeUInt16BE(value & 0xffff, off) : buf.writeUInt16LE(value & 0xffff, off);
  else if (size === 4) be ? buf.writeUInt32BE(value >>> 0, off) : buf.writeUInt32LE(Number(BigInt(Math.floor(value)) & 0xffffffffn), off);
  else {
    const v = BigInt.asUintN(64, BigInt(Math.floor(value)));
    be ? buf.writeBigUInt64BE(v, off) : buf.writeBigUInt64LE(v, off);
  }
  return true;
}

function readField(buf, off, size, be) {
  if (off + size > buf.length) return 0;
  if (size === 1) return buf[off];
  if (size === 2) return be ? buf.readUInt16BE(off) : buf.readUInt16LE(off);
  if (size === 4) return be ? buf.readUInt32BE(off) : buf.readUInt32LE(off);
  return Number(be ? buf.readBigUInt64BE(off) : buf.readBigUInt64LE(off));
}

/** A position biased toward the seed's metadata regions. */
function position(rng, buf, structure) {
  const regions = structure.regions ?? [];
  if (regions.length > 0 && rng.chance(0.75)) {
    const [a, b] = rng.pick(regions);
    const lo = Math.max(0, Math.min(a, buf.length - 1));
    const hi = Math.max(lo + 1, Math.min(b, buf.length));
    return lo + rng.int(hi - lo);
  }
  return rng.int(Math.max(1, buf.length));
}

const binaryOps = {
  bitflip(rng, buf, ctx, log) {
    const n = 1 + rng.int(8);
    for (let i = 0; i < n; i++) {
      const p = position(rng, buf, ctx.structure);
      if (p < buf.length) buf[p] ^= 1 << rng.int(8);
    }
    log.push(`bitflip x${n}`);
    return buf;
  },
  byterun(rng, buf, ctx, log) {
    const p = position(rng, buf, ctx.structure);
    const n = 1 + rng.int(rng.chance(0.2) ? 2048 : 64);
    const v = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]);
    buf.fill(v, p, Math.min(buf.length, p + n));
    log.push(`byterun @${p} x${n}=${v}`);
    return buf;
  },
  randbytes(rng, buf, ctx, log) {
    const p = position(rng, buf, ctx.structure);
    const n = 1 + rng.int(16);
    for (let i = 0; i < n && p + i < buf.length; i++) buf[p + i] = rng.int(256);
    log.push(`randbytes @${p} x${n}`);
    return buf;
  },
  truncate(rng, buf, ctx, log) {
    const regions = ctx.structure.regions ?? [];
    let n;
    if (regions.length > 0 && rng.chance(0.6)) {
      const [a, b] = rng.pick(regions);
      n = Math.min(buf.length, rng.chance(0.5) ? a + rng.int(Math.max(1, b - a)) : rng.pick([a, b, b - 1, a + 1]));
    } else n = rng.int(buf.length);
    log.push(`truncate ${n}`);
    return buf.subarray(0, Math.max(0, n));
  },
  splice(rng, buf, ctx, log) {
    const other = rng.pick(ctx.others);
    if (!other) return buf;
    const at = rng.chance(0.5) ? position(rng, buf, ctx.structure) : rng.int(buf.length);
    const from = rng.chance(0.5) ? at : rng.int(other.length);
    const out = Buffer.concat([buf.subarray(0, at), other.subarray(Math.min(from, other.length))]);
    log.push(`splice @${at} from ${from}`);
    return out.length > MAX_OUTPUT ? out.subarray(0, MAX_OUTPUT) : out;
  },
  copychunk(rng, buf, ctx, log) {
    const from = position(rng, buf, ctx.structure);
    const to = position(rng, buf, ctx.structure);
    const n = 1 + rng.int(512);
    buf.copy(buf, to, from, Math.min(buf.length, from + n));
    log.push(`copy ${from}->${to} x${n}`);
    return buf;
  },
  field(rng, buf, ctx, log) {
    const fields = ctx.structure.fields ?? [];
    if (fields.length === 0) return binaryOps.bitflip(rng, buf, ctx, log);
    // Superblock and descriptor fields are few but matter most: pick them more often.
    const head = fields.filter((x) => x.name.startsWith('sb.') || x.name.startsWith('vd.') || x.name.startsWith('root.'));
    const fld = head.length > 0 && rng.chance(0.3) ? rng.pick(head) : rng.pick(fields);
    const current = readField(buf, fld.off, fld.size, fld.be);
    let value;
    if (rng.chance(0.15)) {
      const other = rng.pick(fields);
      value = readField(buf, other.off, Math.min(other.size, fld.size), other.be);
    } else value = rng.pick(extremes(fld.size, buf.length, current));
    writeField(buf, fld.off, fld.size, value, fld.be);
    // Both-endian ISO fields: keep the twin consistent half of the time.
    const twin = fields.find((x) => x.name === `${fld.name}.be`);
    if (twin && rng.chance(0.5)) writeField(buf, twin.off, twin.size, value, true);
    log.push(`field ${fld.name}@${fld.off}: ${current} -> ${value}`);
    return buf;
  },
  loop(rng, buf, ctx, log) {
    const loops = ctx.structure.loops ?? [];
    if (loops.length === 0) return binaryOps.field(rng, buf, ctx, log);
    const writes = rng.pick(loops);
    for (const w of writes) writeField(buf, w.off, w.size, w.value, w.be);
    log.push(`loop ${writes.map((w) => `${w.off}=${w.value}`).join(',')}`);
    return buf;
  },
};

const BLKTRACE_FIELDS = [[0, 4], [4, 4], [8, 8], [16, 8], [24, 4], [28, 4], [32, 4], [36, 4], [40, 4], [44, 2], [46, 2]];

function blktraceOp(rng, buf, log) {
  const records = [];
  for (let p = 0; p + 48 <= buf.length && records.length < 5000; ) {
    records.push(p);
    p += 48 + buf.readUInt16LE(p + 46);
  }
  if (records.length === 0) return buf;
  const r = rng.pick(records);
  const [o, s] = rng.pick(BLKTRACE_FIELDS);
  const v = rng.pick(extremes(s, buf.length, readField(buf, r + o, s)));
  writeField(buf, r + o, s, v);
  log.push(`blktrace rec@${r}+${o} = ${v}`);
  return buf;
}

const EXTREME_NUMBERS = ['0', '-1', '-0', '4294967295', '4294967296', '18446744073709551615', '18446744073709551616', '9007199254740993',
  '99999999999999999999999999', '1e308', 'NaN', 'Infinity', '0x7fffffff', '-9223372036854775808', '1.5', '', '00000000000000000000001',
  '4503599627370496', '2147483648', '65535:65535', '4095:1048575', '-', '--'];

const textOps = {
  numbers(rng, buf, ctx, log) {
    const s = buf.toString('latin1');
    const matches = [...s.matchAll(/\d+/g)];
    if (matches.length === 0) return binaryOps.bitflip(rng, buf, ctx, log);
    const n = 1 + rng.int(4);
    let out = s;
    for (let i = 0; i < n; i++) {
      const all = [...out.matchAll(/\d+/g)];
      if (all.length === 0) break;
      const m = rng.pick(all);
      const v = rng.pick(EXTREME_NUMBERS);
      out = out.slice(0, m.index) + v + out.slice(m.index + m[0].length);
    }
    log.push(`numbers x${n}`);
    return Buffer.from(out, 'latin1');
  },
  /** Syntax kept valid: decimal fields get other (extreme) decimals, paths get hostile paths. */
  validish(rng, buf, ctx, log) {
    let out = buf.toString('latin1');
    const n = 1 + rng.int(3);
    for (let i = 0; i < n; i++) {
      if (rng.chance(0.6)) {
        const all = [...out.matchAll(/(?<![\w.x])\d+(?![\w.])/g)];
        if (all.length === 0) continue;
        const m = rng.pick(all);
        const v = rng.pick(['0', '1', '4095', '4096', '2147483647', '4294967295', '4294967296', '9007199254740991', '9007199254740993',
          '18446744073709551615', '99999999999999999999', String(rng.int(2 ** 31)), m[0] + '000', m[0].slice(0, -1) || '0']);
        out = out.slice(0, m.index) + v + out.slice(m.index + m[0].length);
      } else {
        const all = [...out.matchAll(/\/[^\t\n ]*/g)];
        if (all.length === 0) continue;
        const m = rng.pick(all);
        const v = rng.pick(['/', '//', '/../../../../etc/shadow', '/usr/../../..', '/./././x', `/${'a/'.repeat(3000)}f`, `/${'n'.repeat(5000)}`,
          '/usr/share/up/up/etc/passwd', '/usr/share/loop-a/x', '/usr/lib/libx.so', '/dev/null', '/weird/name with\\ttab', '/\\n', '/a\\\\b',
          '/proc/self/mem', m[0] + '/..', m[0] + '/.', m[0] + '//', `${m[0]}<script>alert(1)</script>`, `/usr/lib/"><img src=x onerror=alert(1)>.so`,
          `${m[0]}<svg onload=alert(1)>`]);
        out = out.slice(0, m.index) + v + out.slice(m.index + m[0].length);
      }
    }
    log.push(`validish x${n}`);
    return Buffer.from(out, 'latin1');
  },
  /**
   * Grow the trace to 0.25-1.25 MB by repeating a run of its lines: catches work that is not
   * linear (a quadratic step would take minutes), while linear work stays well inside 1 s.
   */
  scale(rng, buf, ctx, log) {
    if (buf.length > 256 * 1024) return buf; // once per input: two would pass the size budget
    const lines = buf.toString('latin1').split('\n');
    const i = 1 + rng.int(Math.max(1, lines.length - 1));
    const run = lines.slice(i, i + 1 + rng.int(50)).join('\n');
    if (run.length === 0) return buf;
    const target = (1 + rng.int(5)) * 256 * 1024;
    const copies = Math.ceil(target / (run.length + 1));
    const head = lines.slice(0, i).join('\n');
    const out = Buffer.from(`${head}\n${`${run}\n`.repeat(copies)}${lines.slice(i).join('\n')}`, 'latin1');
    log.push(`scale @${i} x${copies}`);
    return out.length > MAX_OUTPUT ? out.subarray(0, MAX_OUTPUT) : out;
  },
  lines(rng, buf, ctx, log) {
    const lines = buf.toString('latin1').split('\n');
    const kind = rng.int(5);
    const i = rng.int(lines.length);
    if (kind === 0) lines.splice(i, 1 + rng.int(5));
    else if (kind === 1) {
      const copies = rng.chance(0.1) ? 5000 : 1 + rng.int(20);
      lines.splice(i, 0, ...Array(copies).fill(lines[rng.int(lines.length)]));
    } else if (kind === 2) {
      const j = rng.int(lines.length);
      [lines[i], lines[j]] = [lines[j], lines[i]];
    } else if (kind === 3) {
      const other = rng.pick(ctx.others);
      if (other) {
        const ol = other.toString('latin1').split('\n');
        const k = rng.int(ol.length);
        lines.splice(i, 0, ...ol.slice(k, k + 1 + rng.int(20)));
      }
    } else {
      const fields = (lines[i] ?? '').split(rng.chance(0.5) ? '\t' : ' ');
      const j = rng.int(fields.length);
      if (rng.chance(0.5)) fields.splice(j, 1);
      else fields.splice(j, 0, fields[rng.int(fields.length)] ?? '');
      lines[i] = fields.join(rng.chance(0.5) ? '\t' : ' ');
    }
    log.push(`lines kind ${kind} @${i}`);
    const out = Buffer.from(lines.join('\n'), 'latin1');
    return out.length > MAX_OUTPUT ? out.subarray(0, MAX_OUTPUT) : out;
  },
  inject(rng, buf, ctx, log) {
    const p = rng.int(buf.length + 1);
    const what = rng.pick([
      '\t', '\n', '\\', '\\t', '\\n', '\\x', '\0', '\r\n', '\xff\xfe', '\xc3', '../../../../etc/passwd', '/./..//.', '\t\t\t\t\t\t\t\t\t\t\t\t',
      'x'.repeat(70000), '/'.repeat(5000), '#bootprof-events v1\t', '#bootprof-profile v1\t', '"', '{"', ']', 'null', '\u2028',
    ]);
    log.push(`inject @${p} ${JSON.stringify(what.slice(0, 12))}`);
    return Buffer.concat([buf.subarray(0, p), Buffer.from(what, 'latin1'), buf.subarray(p)]);
  },
};

/**
 * Returns { bytes, ops }. `seed` = { bytes, class, structure }; `others` = byte buffers of other
 * seeds to splice with.
 */
export function mutate(rng, seed, others) {
  const ctx = { structure: seed.structure ?? {}, others };
  let buf = Buffer.from(seed.bytes);
  const log = [];
  const text = seed.class === 'trace' || seed.class === 'sortfile' || seed.class === 'manifest';
  const isBlktrace = buf.length >= 4 && (buf.readUInt32LE(0) & 0xffffff00) === 0x65617400;
  const n = rng.chance(0.5) ? 1 : 1 + rng.int(rng.chance(0.3) ? 8 : 3);
  for (let i = 0; i < n; i++) {
    let op;
    if (isBlktrace && rng.chance(0.5)) {
      buf = blktraceOp(rng, buf, log);
      continue;
    }
    if (text && !isBlktrace && rng.chance(0.03)) op = textOps.scale;
    else if (text && !isBlktrace && rng.chance(0.4)) op = textOps.validish;
    else if (text && !isBlktrace && rng.chance(0.6)) op = textOps[rng.pick(['numbers', 'validish', 'lines', 'inject'])];
    else {
      const names = text ? ['bitflip', 'byterun', 'randbytes', 'truncate', 'splice'] : Object.keys(binaryOps);
      // Structured ops are the productive ones on images: weight them up.
      const name = !text && rng.chance(0.45) ? rng.pick(['field', 'field', 'loop']) : rng.pick(names);
      op = binaryOps[name];
    }
    buf = op(rng, buf, ctx, log);
    if (buf.length === 0) break;
  }
  return { bytes: buf, ops: log };
}
