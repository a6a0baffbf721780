// Progress for long work: a redrawn bar with rate and ETA on a TTY, plain lines
// otherwise (at most one every few seconds, so logs stay readable).

export interface ProgressSink {
  write(text: string): void;
  isTTY: boolean;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressBar {
  private done = 0;
  private started = Date.now();
  private lastDraw = 0;

  constructor(private readonly sink: ProgressSink, private label: string, private total: number, private readonly unit = 'it', private readonly plainEveryMs = 5000) {}

  /** Starts a new phase on the same bar (e.g. the next epoch). */
  reset(label: string, total: number): void {
    this.label = label;
    this.total = total;
    this.done = 0;
    this.started = Date.now();
  }

  update(done: number, extra = ''): void {
    this.done = done;
    const now = Date.now();
    const finished = done >= this.total;
    if (!finished && now - this.lastDraw < (this.sink.isTTY ? 100 : this.plainEveryMs)) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    const stats = `${done}/${this.total} ${this.unit} ${rate.toFixed(1)} ${this.unit}/s ETA ${formatSeconds(eta)}${extra ? ` ${extra}` : ''}`;
    if (this.sink.isTTY) {
      const width = 24;
      const filled = Math.round((width * Math.min(done, this.total)) / Math.max(this.total, 1));
      this.sink.write(`\r\x1b[2K${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${stats}`);
      if (finished) this.sink.write('\n');
    } else {
      this.sink.write(`${this.label}: ${stats}\n`);
    }
  }
}

export function stderrSink(): ProgressSink {
  return { write: (t) => process.stderr.write(t), isTTY: Boolean(process.stderr.isTTY) };
}
