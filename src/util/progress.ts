// Progress for long work: a redrawn bar with rate and ETA on a TTY, plain lines
// otherwise (at most one every few seconds, so logs stay readable). A sweep shows one
// status line (runs done, overall ETA, the current run's epoch and step) that stays at
// the bottom of a terminal: log lines are written above it, never into it.

export interface ProgressSink {
  write(text: string): void;
  isTTY: boolean;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A rate is only printed once it is measured over this long; before, it says "?" instead of 1e9/s. */
export const MIN_RATE_SECONDS = 0.5;

/** A plain (non-TTY) line that says nothing new is repeated at most this often, as a heartbeat. */
export const PLAIN_HEARTBEAT_MS = 60_000;

function rateText(done: number, elapsed: number, unit: string): { text: string; eta: (remaining: number) => number } {
  if (elapsed < MIN_RATE_SECONDS || done <= 0) return { text: `? ${unit}/s`, eta: () => Infinity };
  const rate = done / elapsed;
  // runs that take minutes read better as seconds each than as "0.0 runs/s"
  const text = rate >= 1 ? `${rate.toFixed(1)} ${unit}/s` : `${formatSeconds(1 / rate)}/${unit.replace(/s$/, '')}`;
  return { text, eta: (remaining) => remaining / rate };
}

export class ProgressBar {
  private done = 0;
  private skipped = 0; // done before this bar started (already in a store): not part of its rate
  private started = Date.now();
  private lastDraw = 0;
  private printedDone = -1; // the count the last plain line showed
  private open = false;

  constructor(
    private readonly sink: ProgressSink,
    private label: string,
    private total: number,
    private readonly unit = 'it',
    private readonly plainEveryMs = 5000,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** Starts a new phase on the same bar (e.g. the next epoch). */
  reset(label: string, total: number): void {
    this.label = label;
    this.total = total;
    this.done = 0;
    this.skipped = 0;
    this.printedDone = -1;
    this.started = this.now();
  }

  /** Counts `count` units as done already (found in a store): they show in the count, not in the rate or the ETA. */
  skip(count: number): void {
    this.skipped = count;
    this.done = Math.max(this.done, count);
  }

  update(done: number, extra = ''): void {
    this.done = done;
    const now = this.now();
    const finished = done >= this.total;
    if (!finished && now - this.lastDraw < (this.sink.isTTY ? 100 : this.plainEveryMs)) return;
    // off a TTY, an unchanged count is printed again only as a heartbeat
    if (!this.sink.isTTY && !finished && done === this.printedDone && now - this.lastDraw < PLAIN_HEARTBEAT_MS) return;
    this.lastDraw = now;
    const rate = rateText(done - this.skipped, (now - this.started) / 1000, this.unit);
    const stats = `${done}/${this.total} ${this.unit} ${rate.text} ETA ${formatSeconds(finished ? 0 : rate.eta(this.total - done))}${extra ? ` ${extra}` : ''}`;
    if (this.sink.isTTY) {
      const width = 24;
      const filled = Math.round((width * Math.min(done, this.total)) / Math.max(this.total, 1));
      this.sink.write(`\r\x1b[2K${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}`);
      this.open = !finished;
      if (finished) this.sink.write('\n');
    } else {
      this.printedDone = done;
      this.sink.write(`${this.label}: ${stats}\n`);
    }
  }

  /** Ends a bar left unfinished (a run that failed mid-epoch), so the next line starts clean. */
  close(): void {
    if (this.open && this.sink.isTTY) this.sink.write('\n');
    this.open = false;
  }
}

/**
 * The status of a sweep: runs done out of total, the overall ETA (from the time the
 * finished runs and the current run's progress took), and what the current run is
 * doing. On a TTY it is one line redrawn in place at the bottom, and log() writes above
 * it; otherwise log() lines go out as they are and the status is printed at most every
 * plainEveryMs (and after every run).
 */
export class SweepStatus {
  private done = 0;
  private readonly started: number;
  private current = '';
  private currentFraction = 0;
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
    private readonly plainEveryMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** A line above the status (a run's start or end, an epoch summary). */
  log(text: string): void {
    if (this.sink.isTTY) {
      this.sink.write(`\r\x1b[2K${text}\n`);
      if (this.drawn) this.draw(true);
    } else {
      this.sink.write(`${text}\n`);
    }
  }

  startRun(description: string): void {
    this.current = description;
    this.currentFraction = 0;
    this.log(`run ${this.done + 1}/${this.total}: ${description}`);
  }

  /** Progress inside the current run: fraction in [0, 1] and a short text (epoch, step, loss). */
  runProgress(fraction: number, text: string): void {
    this.currentFraction = Math.max(0, Math.min(1, fraction));
    this.current = text;
    this.draw(false);
  }

  /** The current run finished: counts it (as `count` runs when one training fills several) and logs `text` when given. */
  endRun(text?: string, count = 1): void {
    this.done = Math.min(this.total, this.done + count);
    this.currentFraction = 0;
    this.current = '';
    if (text) this.log(text);
    this.draw(true);
  }

  /** Runs found already done: counted, without a line each. */
  skip(count: number): void {
    this.done = Math.min(this.total, this.done + count);
  }

  /** The status text: "demo: 5/21 runs, 1m05s elapsed, ETA 3m10s | R3 n = 3: epoch 4/10". */
  text(): string {
    const elapsed = (this.now() - this.started) / 1000;
    const progress = this.done + this.currentFraction;
    // Before a run has finished, the first steps (data loading included) say little about the rest.
    const measured = elapsed >= MIN_RATE_SECONDS && (this.done > 0 || this.currentFraction >= 0.2);
    const eta = measured ? (elapsed / progress) * (this.total - progress) : Infinity;
    const width = 20;
    const filled = Math.round((width * Math.min(progress, this.total)) / Math.max(this.total, 1));
    const bar = this.sink.isTTY ? ` [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]` : '';
    return `${this.label}${bar} ${this.done}/${this.total} runs, ${formatSeconds(elapsed)} elapsed, ETA ${this.done >= this.total ? '0s' : formatSeconds(eta)}${this.current ? ` | ${this.current}` : ''}`;
  }

  private draw(force: boolean): void {
    const now = this.now();
    if (!force && now - this.lastDraw < (this.sink.isTTY ? 100 : this.plainEveryMs)) return;
    this.lastDraw = now;
    if (this.sink.isTTY) {
      this.sink.write(`\r\x1b[2K${this.text()}`);
      this.drawn = true;
    } else {
      this.sink.write(`${this.text()}\n`);
    }
  }

  /** Leaves the final status on its own line. */
  finish(): void {
    if (this.sink.isTTY) {
      this.sink.write(`\r\x1b[2K${this.text()}\n`);
      this.drawn = false;
    }
  }
}

export function stderrSink(): ProgressSink {
  return { write: (t) => process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) };
}
