import type { CommandModule } from 'yargs';
import { UnsupportedError } from '../../errors.js';

// Placeholder until the issue that builds it lands.
export const verifyCommand: CommandModule = {
  command: 'verify',
  describe: 'Check that an image follows a sort file (not built yet)',
  handler: () => {
    throw new UnsupportedError('"verify" is not built yet');
  },
};
