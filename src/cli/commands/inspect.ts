import type { CommandModule } from 'yargs';
import { UnsupportedError } from '../../errors.js';

// Placeholder until the issue that builds it lands.
export const inspectCommand: CommandModule = {
  command: 'inspect <image>',
  describe: 'Show the layout of an image (not built yet)',
  handler: () => {
    throw new UnsupportedError('"inspect" is not built yet');
  },
};
