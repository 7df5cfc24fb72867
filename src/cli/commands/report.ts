import type { CommandModule } from 'yargs';
import { UnsupportedError } from '../../errors.js';

// Placeholder until the issue that builds it lands.
export const reportCommand: CommandModule = {
  command: 'report',
  describe: 'Write the HTML seek-cost report (not built yet)',
  handler: () => {
    throw new UnsupportedError('"report" is not built yet');
  },
};
