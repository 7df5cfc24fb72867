import type { CommandModule } from 'yargs';
import { sortCommand } from './sort.js';
import { inspectCommand } from './inspect.js';
import { catCommand } from './cat.js';
import { readaheadCommand } from './readahead.js';
import { verifyCommand } from './verify.js';
import { mapCommand } from './map.js';
import { captureCommand } from './capture.js';
import { simulateCommand } from './simulate.js';
import { reportCommand } from './report.js';
import { tuneCommand } from './tune.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  sortCommand,
  tuneCommand,
  readaheadCommand,
  mapCommand,
  inspectCommand,
  catCommand,
  verifyCommand,
  captureCommand,
  simulateCommand,
  reportCommand,
];
