import type { CommandModule } from 'yargs';
import { UnsupportedError } from '../../errors.js';

// Placeholder until the issue that builds it lands.
export const captureCommand: CommandModule = {
  command: 'capture',
  describe: 'Capture a boot trace (not built yet)',
  handler: () => {
    throw new UnsupportedError('"capture" is not built yet');
  },
};
