import { FormatError } from '../errors.js';

/** Rows listed one by one in the notes; the rest are counted. */
const LISTED_PROBLEMS = 20;
/** More bad rows than this, and more bad than good: the file is not this format. */
const TOLERATED_PROBLEMS = 100;

/**
 * The bad rows of one capture. A damaged row (binary garbage, a NUL, a line cut short) is left
 * out and named in the trace's notes with its file, line and byte offset: one bad row is never a
 * reason to discard a boot's capture. Only a file that is mostly not this format is refused.
 */
export class RowProblems {
  readonly errors: FormatError[] = [];
  /** `what`: the format, for the refusal ("a qemu log"). */
  constructor(
    private readonly source: string,
    private readonly what: string,
  ) {}

  /** Record one bad row; `good`: rows accepted so far. Throws once the file is mostly bad. */
  add(problem: FormatError, good: number): void {
    const errors = this.errors;
    errors.push(problem);
    if (errors.length > TOLERATED_PROBLEMS && errors.length > good) {
      throw new FormatError(this.source, problem.offset, `${errors.length} bad rows and ${good} good ones: ` +
        `this is not ${this.what} (first: ${errors[0]!.message})`);
    }
  }

  /** The notes: "row skipped: ..." for the first ones, then a count (the CLI shows both). */
  notes(): string[] {
    const notes = this.errors.slice(0, LISTED_PROBLEMS).map((p) => `row skipped: ${p.message}`);
    if (this.errors.length > LISTED_PROBLEMS) notes.push(`${this.errors.length - LISTED_PROBLEMS} more bad rows skipped`);
    return notes;
  }
}
