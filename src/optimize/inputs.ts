import type { Layout } from '../image/layout.js';
import { mapBlockEvents } from '../map/index.js';
import { profileFromTraces } from '../profile/load.js';
import type { MergeMode } from '../profile/merge.js';
import { selectRegularFiles, type Selection } from '../profile/select.js';
import type { TreeView } from '../tree/tree-view.js';
import type { Profile } from '../profile/types.js';
import { eventDigestOf } from '../trace/event-columns.js';
import { isFileEvent, type FileEvent, type Trace } from '../trace/types.js';

/**
 * What `sort` and `tune` both start from: the merged profile, its regular files in the tree, and
 * each trace's file events (block reads mapped through the image once, kept for the optimizer).
 */
export interface ProfileSelection {
  profile: Profile;
  selection: Selection;
  fileEventsOf: (trace: Trace) => readonly FileEvent[];
}

export interface ProfileSelectionOptions {
  excludes: readonly string[];
  stripPrefixes: readonly string[];
  merge: MergeMode;
  /** 'ignore': use only the events that name files. */
  blockEvents: 'map' | 'ignore';
  layout?: Layout;
  tree?: TreeView;
}

export function selectProfile(traces: readonly Trace[], options: ProfileSelectionOptions): ProfileSelection {
  const layout = options.blockEvents === 'map' ? options.layout : undefined;
  const forProfile = layout === undefined ? traces : traces.map((trace) => mapBlockEvents(trace, layout));
  const mapped = new Map<Trace, FileEvent[]>();
  forProfile.forEach((trace, i) => {
    if (trace.blocksMapped) mapped.set(traces[i]!, trace.events as FileEvent[]);
  });
  const profile = profileFromTraces(forProfile, { excludes: options.excludes, stripPrefixes: options.stripPrefixes, merge: options.merge });
  const selection = selectRegularFiles(profile.entries, options.tree);
  // a module log's repeated reads are left out before the optimizer sees them (event-columns.ts says which)
  return { profile, selection, fileEventsOf: (trace) => mapped.get(trace) ?? eventDigestOf(trace)?.fileEventsWithoutRepeats() ?? trace.events.filter(isFileEvent) };
}
