import type { CommandModule } from 'yargs';
import { UnsupportedError } from '../../errors.js';

// Placeholder until the issue that builds it lands.
export const simulateCommand: CommandModule = {
  command: 'simulate',
  describe: 'Estimate the cost of a boot on device models (not built yet)',
  handler: () => {
    throw new UnsupportedError('"simulate" is not built yet');
  },
};
