import type { Argv, CommandModule } from 'yargs';
import type { ImageComparison } from '../../sim/compare.js';
import type { Evaluation } from '../../sim/scenarios.js';
import { evaluationJson } from '../evaluation-json.js';
import { emitData, note, progress, progressDone } from '../output.js';
import { evaluationInputOf, withSimulation, type SimulationArgs } from '../options/simulation.js';

type SimulateArgs = SimulationArgs & { json: boolean };

export const simulateCommand: CommandModule<object, SimulateArgs> = {
  command: 'simulate <traces..>',
  describe: 'Estimate what a boot\'s reads cost on device models, for the image and candidate layouts',
  builder: (yargs: Argv) =>
    withSimulation(yargs)
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a table' })
      .example('$0 simulate --image live.iso events.tsv', 'every layout on every device')
      .example('$0 simulate --image old.iso --image new.iso --device cd24-clv profile.tsv', 'two releases on one drive') as Argv<SimulateArgs>,
  handler: async (args) => {
    // loaded when the command runs, not at start-up
    const { compareImages } = await import('../../sim/compare.js');
    const { evaluateScenarios } = await import('../../sim/scenarios.js');
    const input = (await evaluationInputOf(args)).evaluation;
    progress('simulate: replaying the boots on every layout and device');
    const evaluation = evaluateScenarios(input);
    progressDone();
    const comparison = compareImages(evaluation);
    emitData(args.json ? formatJson(evaluation, comparison) : formatTable(evaluation), args.output);
    for (const r of comparison.regressions) note(`regression: ${r.message}`);
  },
};

function formatJson(e: Evaluation, c: ImageComparison): string {
  return `${JSON.stringify(evaluationJson(e, c), null, 2)}\n`;
}

function formatTable(e: Evaluation): string {
  const header = ['device', 'layout', 'reads', 'MiB', 'seeks', 'far', 'seek MiB', 'seek s', 'rot s', 'xfer s', 'total s', 'bound s'];
  const rows: string[][] = [header];
  for (const d of e.devices) {
    for (const r of e.results) {
      const t = r.runs.find((x) => x.device === d.id)!.totals;
      rows.push([
        d.id,
        r.label.replace(/[\t\n]/g, ' '),
        String(t.reads),
        (t.bytes / 1048576).toFixed(1),
        String(t.seeks),
        String(t.farSeeks),
        (t.seekDistance / 1048576).toFixed(0),
        (t.seekMs / 1000).toFixed(2),
        (t.rotationMs / 1000).toFixed(2),
        (t.transferMs / 1000).toFixed(2),
        (t.totalMs / 1000).toFixed(2),
        (t.lowerBoundMs / 1000).toFixed(2),
      ]);
    }
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}
