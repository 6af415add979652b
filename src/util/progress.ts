/**
 * A terminal progress bar: label, done/total, rate, ETA and extra fields (loss, acc, ...).
 * On a TTY it redraws one line in place; otherwise it prints a line every `everyPercent`
 * percent (and at the end); when disabled it prints nothing.
 */
export interface ProgressOptions {
  /** Total number of steps (0 or unknown: shows counts only). */
  total: number;
  label?: string;
  /** Where to draw; default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** false silences the bar entirely. */
  enabled?: boolean;
  /** Force TTY (in-place) or line mode; default: the stream's own isTTY. */
  tty?: boolean;
  /** Non-TTY mode: print a line each time this many percent more are done. */
  everyPercent?: number;
  /** Width of the bar in characters (TTY mode). */
  width?: number;
  /** Unit name used in the rate, e.g. 'files' → "12.3 files/s". */
  unit?: string;
  /** Clock for tests; default Date.now. */
  now?: () => number;
}

export type ProgressFields = Record<string, string | number>;

/** Formats seconds as "1h02m", "3m05s" or "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function formatField(v: string | number): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4);
}

export class Progress {
  private totalSteps: number;
  readonly label: string;
  private done = 0;
  private fields: ProgressFields = {};
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly enabled: boolean;
  private readonly tty: boolean;
  private readonly everyPercent: number;
  private readonly width: number;
  private readonly unit: string;
  private readonly now: () => number;
  private readonly start: number;
  private lastPrintedPercent = 0;
  private lastDraw = 0;
  private finished = false;

  constructor(opts: ProgressOptions) {
    this.totalSteps = Math.max(0, opts.total);
    this.label = opts.label ?? '';
    this.stream = opts.stream ?? process.stderr;
    this.enabled = opts.enabled ?? true;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.everyPercent = opts.everyPercent ?? 10;
    this.width = opts.width ?? 24;
    this.unit = opts.unit ?? 'it';
    this.now = opts.now ?? Date.now;
    this.start = this.now();
  }

  /** Total number of steps. */
  get total(): number {
    return this.totalSteps;
  }

  /** Changes the total, e.g. when work turns out to be done already (a resumed run); redraws. */
  setTotal(total: number): void {
    this.totalSteps = Math.max(0, total);
    this.done = Math.min(this.done, this.totalSteps || this.done);
    this.draw(false);
  }

  /** Advances by `n` steps and merges `fields` into the extra fields shown. */
  tick(n = 1, fields?: ProgressFields): void {
    this.update(this.done + n, fields);
  }

  /** Sets the number of steps done and merges `fields`. */
  update(done: number, fields?: ProgressFields): void {
    this.done = Math.min(done, this.total || done);
    if (fields) this.fields = { ...this.fields, ...fields };
    this.draw(false);
  }

  /** The current line text (without control characters). */
  render(): string {
    const elapsed = (this.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const parts: string[] = [];
    if (this.label) parts.push(this.label);
    if (this.total > 0) {
      const frac = Math.min(1, this.done / this.total);
      if (this.tty) {
        const full = Math.round(frac * this.width);
        parts.push(`[${'#'.repeat(full)}${'-'.repeat(this.width - full)}]`);
      }
      parts.push(`${this.done}/${this.total}`, `${Math.floor(frac * 100)}%`);
    } else {
      parts.push(String(this.done));
    }
    if (elapsed > 0 && this.done > 0) parts.push(`${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)} ${this.unit}/s`);
    if (this.total > 0 && this.done > 0 && this.done < this.total && rate > 0) {
      parts.push(`ETA ${formatDuration((this.total - this.done) / rate)}`);
    } else if (this.done >= this.total && this.total > 0) {
      parts.push(`in ${formatDuration(elapsed)}`);
    }
    for (const [k, v] of Object.entries(this.fields)) parts.push(`${k} ${formatField(v)}`);
    return parts.join('  ');
  }

  private draw(final: boolean): void {
    if (!this.enabled) return;
    if (this.tty) {
      const t = this.now();
      if (!final && t - this.lastDraw < 50 && this.done < this.total) return;
      this.lastDraw = t;
      let line = this.render();
      const cols = this.stream.columns ?? 0;
      if (cols > 0 && line.length > cols - 1) line = line.slice(0, cols - 1);
      this.stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
      return;
    }
    const pct = this.total > 0 ? (100 * this.done) / this.total : 0;
    const atEnd = this.total > 0 && this.done >= this.total;
    if (final || (pct - this.lastPrintedPercent >= this.everyPercent && !atEnd) || (atEnd && !this.finished)) {
      if (atEnd) this.finished = true;
      this.lastPrintedPercent = Math.floor(pct / this.everyPercent) * this.everyPercent;
      this.stream.write(this.render() + '\n');
    }
  }

  /** Writes a line of its own above the bar (a TTY bar is cleared, then redrawn under it). */
  log(line: string): void {
    if (this.enabled && this.tty && !this.finished) {
      this.stream.write(`\r\x1b[2K${line}\n`);
      this.lastDraw = 0;
      this.draw(false);
      return;
    }
    this.stream.write(line + '\n');
  }

  /** Draws the final state and ends the line. Safe to call twice. */
  finish(fields?: ProgressFields): void {
    if (fields) this.fields = { ...this.fields, ...fields };
    if (this.tty) {
      if (this.finished) return;
      this.finished = true;
      this.draw(true);
      return;
    }
    if (!this.finished) {
      this.finished = true;
      if (this.enabled) this.stream.write(this.render() + '\n');
    }
  }
}

/** Creates a progress bar (see `Progress`). */
export function createProgress(opts: ProgressOptions): Progress {
  return new Progress(opts);
}
