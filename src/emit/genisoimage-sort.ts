/**
 * The mkisofs/genisoimage -sort format: `path weight`, the path running to the last blank,
 * weights in ±2147483647, higher weights first. Paths are as given on the mkisofs command line,
 * so a file under the tree DIR is written as DIR/usr/bin/bash.
 */
export const MAX_WEIGHT = 2147483647;

export function genisoimagePathProblem(path: string): string | undefined {
  if (path.includes('\n')) return 'a newline in the name cannot be written in a genisoimage sort file';
  if (path.includes('\0')) return 'a NUL byte in the name';
  return undefined;
}

export function genisoimageLine(path: string, weight: number): string {
  return `${path} ${weight}\n`;
}
