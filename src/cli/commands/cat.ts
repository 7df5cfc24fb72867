import { once } from 'node:events';
import type { Argv, CommandModule } from 'yargs';
import { squashfsPathOf, withImagePositional, type ImageArgs } from '../options/image.js';

type CatArgs = ImageArgs & { path: string; iso: boolean };

export const catCommand: CommandModule<object, CatArgs> = {
  command: 'cat <image> <path>',
  describe: 'Write a file of the image to stdout: a squashfs file, or a file on the ISO',
  builder: (yargs: Argv) =>
    withImagePositional(yargs)
      .positional('path', { type: 'string', demandOption: true, describe: 'Absolute path in the squashfs (symlinks are followed), else on the ISO' })
      .option('iso', { type: 'boolean', default: false, describe: 'Read the path from the ISO tree, not the squashfs' })
      .example('$0 cat live.iso /etc/os-release', 'a file of the live system')
      .example('$0 cat --iso live.iso /live/vmlinuz > vmlinuz', 'a file stored on the ISO') as Argv<CatArgs>,
  handler: async (args) => {
    // loaded when the command runs, not at start-up
    const { fileChunks } = await import('../../image/file-content.js');
    const { openImage } = await import('../../image/open.js');
    const image = openImage(args.image, { allowIsoOnly: true, ...squashfsPathOf(args) });
    try {
      const file = fileChunks(image, args.path, args.iso ? 'iso' : undefined);
      // A reader that goes away (`| head`) ends the copy quietly, like cat(1) on SIGPIPE.
      let broken = false;
      const onError = (err: NodeJS.ErrnoException): void => {
        if (err.code !== 'EPIPE') throw err;
        broken = true;
        process.stdout.emit('drain');
      };
      process.stdout.on('error', onError);
      for (const chunk of file.chunks) {
        if (broken) break;
        if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
      }
    } finally {
      image.close();
    }
  },
};
