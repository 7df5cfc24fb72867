import type { CommandModule } from 'yargs';
import { UnsupportedError } from '../../errors.js';

// Placeholder until the issue that builds it lands.
export const readaheadCommand: CommandModule = {
  command: 'readahead',
  describe: 'Profiled files in image order (readahead list) (not built yet)',
  handler: () => {
    throw new UnsupportedError('"readahead" is not built yet');
  },
};
