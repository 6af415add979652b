/**
 * The JSON-lines result file of a batch: appended one whole line per `write()` call (a kill loses
 * at most the line being written), and on `--resume` repaired (a truncated last line is cut off)
 * and read back as the set of inputs already done. No library does this repair-and-append dance,
 * so it is written here (about 60 lines).
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync, createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { SerError } from '../../util/errors.js';

/**
 * Cuts `path` back to its last complete line (ending in '\n') and returns how many bytes were
 * dropped (0 when the file ends cleanly or does not exist).
 */
export function repairJsonl(path: string): number {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      const i = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (i >= 0) {
        const keep = start + i + 1;
        if (keep < size) ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) ftruncateSync(fd, 0);
    return size;
  } finally {
    closeSync(fd);
  }
}

/**
 * The `file` of every line of a (repaired) result file. Lines that do not parse are reported
 * through `onBad` and not counted as done (their inputs run again).
 */
export async function doneInputs(path: string, onBad: (lineNo: number) => void = () => undefined): Promise<Set<string>> {
  const done = new Set<string>();
  if (!existsSync(path)) return done;
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity })) {
    n++;
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as { file?: unknown };
      if (typeof v.file === 'string') done.add(v.file);
      else onBad(n);
    } catch {
      onBad(n);
    }
  }
  return done;
}

/** Appends lines to a file with one write(2) per line. */
export class JsonlWriter {
  private fd: number;
  constructor(readonly path: string, append: boolean) {
    try {
      this.fd = openSync(path, append ? 'a' : 'w');
    } catch (e) {
      throw new SerError('cli/bad-output', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  write(value: unknown): void {
    writeSync(this.fd, JSON.stringify(value) + '\n');
  }
  close(): void {
    closeSync(this.fd);
  }
}
