import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderActionFile } from '../emit/action-file.js';
import { renderSortFile } from '../emit/sort-file.js';
import { openImage } from '../image/open.js';
import type { SelectedFile } from '../profile/select.js';
import { runMksquashfs } from '../sim/rebuild.js';
import { costOfLayout, type Objective, type PlanCost } from './objective.js';
import type { TuneRow } from './tune.js';
import type { Universe } from './universe.js';

/**
 * `tune --rebuild`: build a candidate for real with mksquashfs (its sort file, action file and
 * options), read the image back, and judge it on the same replays as the prediction.
 */
export interface RebuildInput {
  root: string;
  universe: Universe;
  /** The selected files, by their path relative to the root. */
  selected: ReadonlyMap<string, SelectedFile>;
  objective: Objective;
  workDir: string;
  /** More mksquashfs options for every build (e.g. -comp xz), after ours. */
  extraArgs: readonly string[];
  topLevel: readonly string[];
}

export interface Rebuilt {
  row: TuneRow;
  cost: PlanCost;
}

export async function rebuildRow(input: RebuildInput, row: TuneRow, name: string): Promise<Rebuilt> {
  const files = row.shape.order.map((f) => input.selected.get(input.universe.files[f]!.rel)).filter((f): f is SelectedFile => f !== undefined);
  const sort = renderSortFile(files, { format: 'mksquashfs', placement: row.placement, topLevel: input.topLevel });
  const unfragmented = [...row.shape.unfragmented]
    .map((f) => input.selected.get(input.universe.files[f]!.rel))
    .filter((f): f is SelectedFile => f !== undefined)
    .map((f) => ({ rel: f.rel, path: f.entry.path }));
  const actions = renderActionFile(unfragmented, { action: 'no-fragments' });
  const sortFile = join(input.workDir, `${name}.sort`);
  const actionFile = join(input.workDir, `${name}.actions`);
  const image = join(input.workDir, `${name}.squashfs`);
  writeFileSync(sortFile, sort.text);
  writeFileSync(actionFile, actions.text);
  // -sort and -action-file before the user's options: a -e among them eats every argument after it
  await runMksquashfs(input.root, [
    input.root,
    image,
    '-noappend',
    '-no-progress',
    '-quiet',
    ...row.options,
    '-sort',
    sortFile,
    '-action-file',
    actionFile,
    ...input.extraArgs,
  ]);
  const opened = openImage(image);
  try {
    return { row, cost: costOfLayout(opened.layout, opened.layout.size, input.objective) };
  } finally {
    opened.close();
  }
}
