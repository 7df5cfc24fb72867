import type { Argv, CommandModule } from 'yargs';
import { EXIT } from '../../errors.js';
import { DEVICES } from '../../sim/devices.js';
import { emitData, ExitStatus, note, progress, progressDone } from '../output.js';
import { evaluationJson } from '../evaluation-json.js';
import { emitJson, withJson, type JsonArgs } from '../options/json.js';
import { evaluationInputOf, withSimulation, type SimulationArgs } from '../options/simulation.js';

type ReportArgs = SimulationArgs &
  JsonArgs & {
  title?: string;
  threshold: number;
  'fail-on-regression': boolean;
};

/** Exit code when --fail-on-regression finds one (the table: EXIT in src/errors.ts). */
export const REGRESSION_EXIT_CODE = EXIT.regression;

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <traces..>',
  describe: 'Write the self-contained HTML seek-cost report',
  builder: (yargs: Argv) =>
    withJson(withSimulation(yargs), 'Also print every layout\'s figures on every device and the regressions as JSON on stdout (as simulate --json); needs -o FILE', true)
      .option('chart-device', {
        type: 'string',
        describe: `Device model whose per-read detail feeds the charts (default: the first; one of ${DEVICES.map((d) => d.id).join(', ')})`,
      })
      .option('title', { type: 'string', describe: 'Page title' })
      .option('threshold', { type: 'number', default: 5, describe: 'Percent slower (on any device) that counts as a regression' })
      .option('fail-on-regression', {
        type: 'boolean',
        default: false,
        describe: `Exit with code ${REGRESSION_EXIT_CODE} when a later --image regresses past the threshold`,
      })
      .example('$0 report --image live.iso events.tsv -o report.html', 'one release')
      .example('$0 report --image 1.0.iso --image 1.1.iso --fail-on-regression profile.tsv -o report.html', 'release check') as Argv<ReportArgs>,
  handler: async (args) => {
    const { inputs, evaluation } = await evaluationInputOf(args);
    // d3-node brings jsdom: load it only when a report is really written
    const { buildReportWithModel } = await import('../report-pipeline.js');
    progress('report: replaying the boots on every layout and device');
    const { html, model, evaluation: evaluated, comparison } = buildReportWithModel({
      ...evaluation,
      ...(evaluation.detailDevice !== undefined ? { chartDevice: evaluation.detailDevice } : {}),
      regressionThreshold: Math.max(0, args.threshold) / 100,
      ...(args.title !== undefined ? { title: args.title } : {}),
      generatedAt: new Date().toISOString(),
      traceNames: inputs.traceNames,
    });
    progressDone();
    emitData(html, args.output);
    if (args.json) emitJson({ command: 'report', output: args.output, ...evaluationJson(evaluated, comparison) });
    if (args.output !== undefined && args.output !== '-') note(`report written to ${args.output}`);
    for (const r of model.regressions) note(`regression: ${r}`);
    if (args['fail-on-regression'] && model.regressions.length > 0) throw new ExitStatus(REGRESSION_EXIT_CODE);
  },
};
