import type { CommandModule } from 'yargs';
import { UnsupportedError } from '../../errors.js';

// Placeholder until the issue that builds it lands.
export const catCommand: CommandModule = {
  command: 'cat <image> <path>',
  describe: 'Write a file of an image to stdout (not built yet)',
  handler: () => {
    throw new UnsupportedError('"cat" is not built yet');
  },
};
