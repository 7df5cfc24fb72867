import { InputError } from '../errors.js';

/** The seed's exclusions (draklive), anchored at a path boundary so /system or /devices stay in. */
export const DEFAULT_EXCLUDES = ['^/(?:dev|proc|sys|live/distrib)(?:/|$)'];

export function compileExcludes(patterns: readonly string[]): RegExp[] {
  return patterns.map((pattern) => {
    try {
      return new RegExp(pattern, 'u');
    } catch (err) {
      throw new InputError(`invalid --exclude pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
  });
}

/** Remove the first matching prefix ("/mnt/live"), only at a path boundary. */
export function stripPrefix(path: string, prefixes: readonly string[]): string {
  for (const raw of prefixes) {
    const prefix = raw.replace(/\/+$/, '');
    if (prefix === '') continue;
    if (path === prefix) return '/';
    if (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 0x2f) return path.slice(prefix.length);
  }
  return path;
}

/** Collapse "//" and "/./" so the same file is not listed twice under two spellings; ".." is kept for the resolver. */
export function normalizePath(path: string): string {
  if (!path.includes('//') && !path.includes('/.')) return path;
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  return '/' + parts.join('/');
}
