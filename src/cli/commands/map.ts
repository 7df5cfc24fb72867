import type { CommandModule } from 'yargs';
import { UnsupportedError } from '../../errors.js';

// Placeholder until the issue that builds it lands.
export const mapCommand: CommandModule = {
  command: 'map',
  describe: 'Map traces to a file-level profile (not built yet)',
  handler: () => {
    throw new UnsupportedError('"map" is not built yet');
  },
};
