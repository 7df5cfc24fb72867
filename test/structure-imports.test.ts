import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

/*
 * The folders of src/ follow the data flow: a module may import its own stage and earlier ones,
 * never a later one (type-only imports count too). src/formats, src/util, src/tree and the files at
 * the top of src/ are neutral: anyone may import them, and they import only each other.
 * capture and cli sit on top and may import anything.
 */
const STAGES = ['trace', 'image', 'map', 'profile', 'emit', 'sim', 'optimize', 'report'];
const TOP = new Set(['capture', 'cli']);
const NEUTRAL = new Set(['formats', 'util', 'tree', 'types', '']);

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = join(dir, d.name);
    if (d.isDirectory()) return sources(full);
    return d.name.endsWith('.ts') ? [relative(SRC, full).split('\\').join('/')] : [];
  });
}

interface Import {
  text: string;
  target: string;
  typeOnly: boolean;
}

/** Static imports and re-exports (also over several lines) and dynamic import()s. */
export function importsOf(text: string): Import[] {
  const out: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)(\s+type)?\b([^;'"]*?)\bfrom\s+['"]([^'"]+)['"]/gm)) {
    const names = m[3] ?? '';
    // `import { type A, type B }` is type-only as well
    const braces = /^\s*\{([^}]*)\}\s*$/.exec(names);
    const allTypes = braces !== null && braces[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '').every((s) => s.startsWith('type '));
    out.push({ text: m[0].trim(), target: m[4]!, typeOnly: m[2] !== undefined || allTypes });
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) out.push({ text: m[0].trim(), target: m[1]!, typeOnly: false });
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ text: m[0], target: m[1]!, typeOnly: false });
  return out;
}

function folderOf(module: string): string {
  const slash = module.indexOf('/');
  return slash < 0 ? '' : module.slice(0, slash);
}

/** Why `from` may not import `to`, or undefined when it may. */
function violation(from: string, to: string, typeOnly: boolean): string | undefined {
  const a = folderOf(from);
  const b = folderOf(to);
  if (a === b || TOP.has(a)) return undefined;
  if (NEUTRAL.has(a)) return NEUTRAL.has(b) ? undefined : `neutral src/${a || '.'} imports stage src/${b}`;
  if (NEUTRAL.has(b)) return undefined;
  if (TOP.has(b)) return `src/${a} imports src/${b}, which sits on top`;
  const ia = STAGES.indexOf(a);
  const ib = STAGES.indexOf(b);
  if (ia < 0) return `src/${a} is in no stage: add it to STAGES, NEUTRAL or TOP`;
  if (ib < 0) return `src/${b} is in no stage: add it to STAGES, NEUTRAL or TOP`;
  if (ib > ia) return `src/${a} (stage ${ia + 1}) imports the later stage src/${b} (stage ${ib + 1})`;
  if (a === 'report' && b === 'sim' && !typeOnly) return 'report imports only types from src/sim';
  return undefined;
}

const modules = sources(SRC);

t.test('the import parser sees every form', async (t) => {
  const found = importsOf(
    [
      "import { a } from '../x/a.js';",
      "import type { B } from '../x/b.js';",
      "import {\n  type C,\n  type D,\n} from '../x/c.js';",
      "import { type E, f } from '../x/e.js';",
      "export { g } from './g.js';",
      "export type { H } from './h.js';",
      "export * from './i.js';",
      "import './side.js';",
      "const m = await import('../x/m.js');",
    ].join('\n'),
  );
  t.same(
    found.map((i) => [i.target, i.typeOnly]),
    [
      ['../x/a.js', false],
      ['../x/b.js', true],
      ['../x/c.js', true],
      ['../x/e.js', false],
      ['./g.js', false],
      ['./h.js', true],
      ['./i.js', false],
      ['./side.js', false],
      ['../x/m.js', false],
    ],
  );
  t.equal(violation('image/open.ts', 'profile/tree.ts', true), 'src/image (stage 2) imports the later stage src/profile (stage 4)', 'a type counts');
  t.equal(violation('map/map-trace.ts', 'profile/load.ts', false), 'src/map (stage 3) imports the later stage src/profile (stage 4)');
  t.equal(violation('profile/load.ts', 'map/image-match.ts', false), undefined, 'an earlier stage');
  t.equal(violation('report/model.ts', 'sim/scenarios.ts', false), 'report imports only types from src/sim');
  t.equal(violation('report/model.ts', 'sim/scenarios.ts', true), undefined);
  t.equal(violation('formats/sort-file.ts', 'emit/sort-file.ts', false), 'neutral src/formats imports stage src/emit');
  t.equal(violation('cli/commands/sort.ts', 'optimize/plan.ts', false), undefined, 'cli may import anything');
  t.equal(violation('map/map-trace.ts', 'util/atomic-write.ts', false), undefined, 'anyone may import src/util');
  t.equal(violation('optimize/plan.ts', 'capture/qemu.ts', false), 'src/optimize imports src/capture, which sits on top');
});

t.test('no module of src/ imports a later stage of the data flow', async (t) => {
  t.ok(modules.length > 100, `${modules.length} modules read`);
  const problems: string[] = [];
  let checked = 0;
  for (const from of modules) {
    for (const imp of importsOf(readFileSync(join(SRC, from), 'utf8'))) {
      if (!imp.target.startsWith('.')) continue; // node: and packages
      const to = posix.normalize(posix.join(posix.dirname(from), imp.target)).replace(/\.js$/, '.ts');
      if (to.startsWith('..')) {
        problems.push(`${from}: ${imp.text} leaves src/`);
        continue;
      }
      checked++;
      const why = violation(from, to, imp.typeOnly);
      if (why !== undefined) problems.push(`${from}: ${imp.text}: ${why}`);
    }
  }
  t.ok(checked > 300, `${checked} imports checked`);
  t.same(problems, [], 'imports that point against the data flow');
});
