import type { Argv } from 'yargs';
import type { Layout } from '../../image/layout.js';
import type { OpenedImage } from '../../image/open.js';
import type { TreeView } from '../../tree/tree-view.js';
import { UsageError } from '../output.js';

/* Which image or tree a command reads: the same names, texts and checks everywhere. */

export interface SquashfsPathArgs {
  squashfs?: string;
}

export interface ImageArgs extends SquashfsPathArgs {
  image: string;
}

export interface ImageOrRootArgs {
  image?: string;
  root?: string;
}

/** `--squashfs PATH`: which squashfs of an ISO to read. */
export function withSquashfsPath<T>(yargs: Argv<T>): Argv<T & SquashfsPathArgs> {
  return yargs.option('squashfs', { type: 'string', describe: 'Path of the squashfs on the ISO (default: detected)' }) as Argv<T & SquashfsPathArgs>;
}

/** The open options `--squashfs` asks for. */
export function squashfsPathOf(args: SquashfsPathArgs): { squashfsPath?: string } {
  return args.squashfs !== undefined ? { squashfsPath: args.squashfs } : {};
}

/** `--image FILE` (required) and `--squashfs`; `manifest`: an `inspect --json` manifest is taken too. */
export function withImage<T>(yargs: Argv<T>, options: { manifest: boolean }): Argv<T & ImageArgs> {
  return withSquashfsPath(
    yargs.option('image', {
      type: 'string',
      demandOption: true,
      describe: options.manifest ? 'The squashfs the traces were taken on, or the ISO holding it, or its manifest (inspect --json)' : 'The squashfs, or the ISO holding it',
    }),
  ) as Argv<T & ImageArgs>;
}

/** `<image>` as the first positional, and `--squashfs` (inspect, cat). */
export function withImagePositional<T>(yargs: Argv<T>): Argv<T & ImageArgs> {
  return withSquashfsPath(
    yargs.positional('image', { type: 'string', demandOption: true, describe: 'A squashfs, or an ISO 9660 image (holding one or not)' }),
  ) as Argv<T & ImageArgs>;
}

/** `--image` or `--root`, never both; `required`: one of them must be given (tune). */
export function withImageOrRoot<T>(yargs: Argv<T>, options: { required: boolean }): Argv<T & ImageOrRootArgs> {
  const built = yargs
    .option('image', {
      type: 'string',
      describe: 'The squashfs or ISO the profiles were taken on, or its manifest (inspect --json): only its regular files count, with their compressed sizes',
    })
    .option('root', {
      type: 'string',
      describe: 'The tree mksquashfs builds the image from: only its regular files count (sizes from lstat, compression sampled)',
    })
    .conflicts('image', 'root');
  if (!options.required) return built as Argv<T & ImageOrRootArgs>;
  return built.check((a) => {
    if (a.image === undefined && a.root === undefined) throw new UsageError('give --image or --root');
    return true;
  }) as Argv<T & ImageOrRootArgs>;
}

/**
 * The tree the arguments name: the image's (with its layout) or the host root's, or none. The
 * image readers are loaded here, when a command opens an image, not at start-up.
 */
export async function openImageOrRoot(args: ImageOrRootArgs): Promise<{ tree?: TreeView; layout?: Layout; opened?: OpenedImage }> {
  if (args.image !== undefined) {
    const { openImageOrManifest } = await import('../../image/open-any.js');
    const view = openImageOrManifest(args.image);
    return { tree: view.tree, layout: view.layout, ...(view.image !== undefined ? { opened: view.image } : {}) };
  }
  if (args.root === undefined) return {};
  const { HostTree } = await import('../../tree/host-tree.js');
  return { tree: new HostTree(args.root) };
}
