/**
 * What Kimi read, for the result's `files_read`: each file with the line ranges it was shown,
 * overlapping and adjacent ranges merged, in the order the files were first read.
 */

export interface LinesRead {
  start: number;
  end: number;
}
export interface FileRead {
  path: string;
  lines: LinesRead[];
}

export class ReadLog {
  private readonly files = new Map<string, LinesRead[]>();

  record(path: string, start: number, end: number): void {
    const ranges = this.files.get(path) ?? [];
    ranges.push({ start, end });
    this.files.set(path, ranges);
  }

  list(): FileRead[] {
    return [...this.files].map(([path, ranges]) => ({ path, lines: merged(ranges) }));
  }
}

function merged(ranges: readonly LinesRead[]): LinesRead[] {
  const out: LinesRead[] = [];
  for (const range of [...ranges].sort((a, b) => a.start - b.start)) {
    const last = out.at(-1);
    if (last && range.start <= last.end + 1) last.end = Math.max(last.end, range.end);
    else out.push({ ...range });
  }
  return out;
}

/** `src/a.ts:1-120, 300-340`, as steps and summaries name a read. */
export function describeRead(file: FileRead): string {
  return `${file.path}:${file.lines.map((r) => (r.start === r.end ? `${r.start}` : `${r.start}-${r.end}`)).join(', ')}`;
}
