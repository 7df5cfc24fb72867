// npm test type-checks the tests (issue 11 item 11): pretest runs tsc on tsconfig.test.json, which
// covers src/ and every test file with the same strict options as the build.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const REPO = fileURLToPath(new URL('..', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(REPO, join(e.parentPath, e.name)))
    .filter((p) => !p.startsWith('test/fixtures/'));
}

t.test('pretest type-checks the tests after the build', (t) => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const steps = (pkg.scripts.pretest ?? '').split('&&').map((s) => s.trim());
  const build = steps.indexOf('tsc -p tsconfig.json');
  const check = steps.indexOf('tsc -p tsconfig.test.json');
  t.ok(build >= 0 && check > build, `pretest: ${pkg.scripts.pretest}`);
  const config = JSON.parse(readFileSync(join(REPO, 'tsconfig.test.json'), 'utf8')) as {
    extends: string;
    compilerOptions: { noEmit?: boolean };
  };
  t.equal(config.extends, './tsconfig.json', 'the same strict options as the build');
  t.equal(config.compilerOptions.noEmit, true, 'checks only: dist/ stays the build of src/');
  t.end();
});

t.test('tsconfig.test.json covers every test and helper file', (t) => {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  const listed = new Set(
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.test.json', '--listFilesOnly'], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => relative(REPO, l.trim())),
  );
  const wanted = [...tsFiles('test'), ...tsFiles('src')];
  t.ok(wanted.some((p) => p.endsWith('.test.ts')), 'found the tests');
  t.same(wanted.filter((p) => !listed.has(p)), [], 'no test, helper or source file is left out');
  t.end();
});
