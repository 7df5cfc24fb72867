import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (npm test builds dist/ first, in pretest). */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; with `asUser`, drop to that uid/gid (we are root) and to an empty environment. */
export function runCli(args: string[], options: { cwd?: string; input?: string; asUser?: number } = {}): CliResult {
  const { asUser, ...spawnOptions } = options;
  // tap's process-info hook writes files another user may not write: env -i keeps it out of that child.
  const [cmd, argv] =
    asUser === undefined
      ? [process.execPath, [CLI, ...args]]
      : ['setpriv', [`--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', 'env', '-i', `PATH=${process.env.PATH ?? ''}`, process.execPath, CLI, ...args]];
  const res = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...spawnOptions });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}
