/**
 * mksquashfs priorities are 16-bit (-32768..32767); higher is written first; files not listed
 * take their directory's priority or 0. This module decides which number each profiled file gets.
 */
export type Placement = 'beginning' | 'end';

export const MAX_PRIORITY = 32767;
export const MIN_PRIORITY = -32768;

export interface PriorityPlan {
  /** One priority per profiled file, in profile order. */
  priorities: number[];
  /**
   * When set, every top-level entry of the root that the profile does not list gets this
   * priority, so that files not in the profile move out of the profile's way
   * (used only when the profile is too long for the half of the range on its side of 0).
   */
  floorPriority?: number;
  /** Profiled files that share the last priority and so come out in mksquashfs's walk order. */
  tied: number;
  /** Profiled files that land on the wrong side of the unlisted files (no floor was possible). */
  misplaced: number;
}

/**
 * @param count profiled files, in access order
 * @param placement beginning: before every unlisted file; end: after every unlisted file (Finnix uses -1, -2, ...)
 * @param canUseFloor the caller knows the root's top level and can list it
 */
export function planPriorities(count: number, placement: Placement, canUseFloor: boolean): PriorityPlan {
  // Unique priorities available on the profile's side of the unlisted files' 0.
  const sideRoom = placement === 'beginning' ? MAX_PRIORITY : -MIN_PRIORITY; // 32767 or 32768
  const priorities = new Array<number>(count);
  if (count <= sideRoom || !canUseFloor) {
    const first = placement === 'beginning' ? MAX_PRIORITY : -1;
    for (let i = 0; i < count; i++) priorities[i] = Math.max(first - i, MIN_PRIORITY);
    const unique = first - MIN_PRIORITY + 1;
    return {
      priorities,
      tied: count > unique ? count - unique + 1 : 0,
      // at 0 or below, a profiled file is written with or after the unlisted files
      misplaced: placement === 'beginning' ? Math.max(0, count - sideRoom) : 0,
    };
  }
  // Too many for one side: push unlisted files to the far end of the range and use the rest.
  const floorPriority = placement === 'beginning' ? MIN_PRIORITY : MAX_PRIORITY;
  const first = placement === 'beginning' ? MAX_PRIORITY : MAX_PRIORITY - 1;
  const last = placement === 'beginning' ? MIN_PRIORITY + 1 : MIN_PRIORITY;
  for (let i = 0; i < count; i++) priorities[i] = Math.max(first - i, last);
  const unique = first - last + 1;
  return { priorities, floorPriority, tied: count > unique ? count - unique + 1 : 0, misplaced: 0 };
}
