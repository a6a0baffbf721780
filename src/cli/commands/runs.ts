// `spurlab runs`: find runs. A list with key settings, status, score and artifact
// directory (filtered by --where), one run in full (`show`), two side by side with their
// training curves (`compare`), and every run as CSV or JSON lines for pandas or R
// (`export`), and an export read back into a store (`import`). Runs come from the
// results store (through its public queries only) or from a `spurlab train --out` directory.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { closest, flag, stringOption, type Command, type ParsedArgs } from '../command.ts';
import { DEFAULT_RESULTS_PATH, GROUP_COLUMNS, ResultsStore, type RunRecord } from '../../store/results.ts';
import type { EpochRecord } from '../../train/trainer.ts';
import { loadCheckpoint, metadataJson } from '../../store/checkpoint.ts';
import { UserError } from '../../util/errors.ts';
import { exportedRun, readExportedRuns } from '../../store/runExport.ts';

const USAGE = `spurlab runs [--where key=value,...] [--store PATH] [--json]
       spurlab runs show KEY|DIR [--store PATH] [--json]
       spurlab runs compare A B [--store PATH]        (A, B: a key, a key prefix or a run directory)
       spurlab runs export --format csv|jsonl [--out FILE] [--where key=value,...] [--store PATH]
       spurlab runs import FILE.jsonl [--store PATH]   (the done runs of a jsonl export; keys already there are kept)`;

/** One run wherever it came from: a store row, or a run directory written by `spurlab train`. */
interface FoundRun {
  key: string; // the store key, or the directory for a run outside the store
  kind: string;
  status: string;
  config: Record<string, unknown>;
  result: Record<string, unknown> | null;
  record?: RunRecord;
  dir: string | null; // artifact directory, when it exists
}

const pct = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? `${(100 * v).toFixed(2)}%` : '-');
/** A setting exactly as configured (1e-5 stays 1e-5). */
const raw = (v: unknown) => (v === undefined || v === null ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v));
/** A measured number, to four decimals. */
const num = (v: unknown) =>
  typeof v === 'number' && Number.isFinite(v)
    ? Number.isInteger(v)
      ? String(v)
      : v.toFixed(4)
    : v === undefined || v === null
      ? '-'
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);
/** Accuracies are shown as percentages in text, as everywhere in the CLI. */
const isAccuracy = (name: string) => /acc$/i.test(name) || /Acc[A-Z]/.test(name);
const show = (name: string, v: unknown) => (isAccuracy(name) && typeof v === 'number' ? pct(v) : num(v));

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

function fromRecord(store: ResultsStore, r: RunRecord): FoundRun {
  const dir = join(store.artifactsDir, r.key);
  return { key: r.key, kind: r.kind, status: r.status, config: r.config, result: r.result, record: r, dir: existsSync(dir) ? dir : null };
}

/** A run directory outside the store: config from metrics.json or the checkpoint. */
function fromDirectory(dir: string): FoundRun | undefined {
  const metrics = readJson<Record<string, unknown>>(join(dir, 'metrics.json'));
  const ckpt = join(dir, 'model.safetensors');
  if (metrics && typeof metrics.config === 'object' && metrics.config !== null) {
    const { config, ...result } = metrics;
    return { key: dir, kind: 'train', status: 'done', config: config as Record<string, unknown>, result, dir };
  }
  if (existsSync(ckpt))
    return {
      key: dir,
      kind: 'train',
      status: 'running',
      config: metadataJson<Record<string, unknown>>(loadCheckpoint(ckpt), 'config'),
      result: null,
      dir,
    };
  return undefined;
}

class RunSource {
  private store?: ResultsStore;
  constructor(private readonly storePath: string) {}

  private open(): ResultsStore {
    if (!this.store) {
      if (!existsSync(this.storePath)) throw new UserError(`${this.storePath}: no results store here; run a sweep first or pass --store PATH`);
      this.store = ResultsStore.open(this.storePath);
    }
    return this.store;
  }

  all(): FoundRun[] {
    const store = this.open();
    return store.list().map((r) => fromRecord(store, r));
  }

  /** A key, a unique key prefix (4+ characters), an artifact directory or a train --out directory. */
  find(ref: string): FoundRun {
    if (existsSync(ref) && statSync(ref).isDirectory()) {
      const key = basename(resolve(ref));
      if (existsSync(this.storePath)) {
        const r = this.open().get(key);
        if (r) return fromRecord(this.open(), r);
      }
      const run = fromDirectory(ref);
      if (run) return run;
      throw new UserError(`${ref}: not a run directory (no metrics.json or model.safetensors) and not a run of ${this.storePath}`);
    }
    if (!/^[0-9a-f]{4,64}$/.test(ref)) throw new UserError(`${ref}: no such run directory, and not a run key (4 to 64 hex digits)`);
    const store = this.open();
    const exact = store.get(ref);
    if (exact) return fromRecord(store, exact);
    const matches = store.list().filter((r) => r.key.startsWith(ref));
    if (matches.length === 1) return fromRecord(store, matches[0]);
    if (matches.length === 0) throw new UserError(`${ref}: no run of ${this.storePath} has a key starting so (spurlab runs lists them)`);
    throw new UserError(
      `${ref}: ${matches.length} runs have keys starting so (${matches
        .slice(0, 4)
        .map((m) => m.key.slice(0, 12))
        .join(', ')}, ...); give more digits`,
    );
  }

  close(): void {
    this.store?.close();
  }
}

/** A config value by a top-level name or a dotted path ('training.lr'). */
function lookup(obj: Record<string, unknown> | null, path: string): unknown {
  let v: unknown = obj;
  for (const part of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

/** Flattens nested objects to dotted names; arrays stay whole. */
function flatten(obj: Record<string, unknown> | null, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

interface Condition {
  name: string;
  value: string;
}

function parseWhere(raw: string | undefined): Condition[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new UserError(`--where: got "${part}", expected key=value (e.g. --where pattern=S3,n=3,status=done)`);
      return { name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() };
    });
}

function fieldOf(run: FoundRun, name: string): unknown {
  if (name === 'status') return run.status;
  if (name === 'kind') return run.kind;
  if (name === 'key') return run.key;
  if (name.startsWith('result.')) return lookup(run.result, name.slice(7));
  return lookup(run.config, name);
}

function matches(run: FoundRun, c: Condition): boolean {
  const v = fieldOf(run, c.name);
  if (c.name === 'key') return run.key.startsWith(c.value);
  if (typeof v === 'number') return Number(c.value) === v;
  if (v === null || v === undefined) return c.value === 'null' || c.value === '';
  return (typeof v === 'object' ? JSON.stringify(v) : String(v)) === c.value;
}

function filterRuns(runs: FoundRun[], conditions: Condition[]): FoundRun[] {
  const known = new Set([
    'status',
    'kind',
    'key',
    ...runs.flatMap((r) => [...Object.keys(flatten(r.config)), ...Object.keys(flatten(r.result)).map((k) => `result.${k}`)]),
  ]);
  for (const c of conditions) {
    if (runs.length > 0 && !known.has(c.name)) {
      const guess = closest(c.name, [...known]);
      throw new UserError(`--where: no run has a setting "${c.name}"${guess ? `; did you mean "${guess}"?` : ''}`);
    }
  }
  return runs.filter((r) => conditions.every((c) => matches(r, c)));
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}

function listRuns(runs: FoundRun[], io: { out: (l: string) => void }, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(runs.map((r) => ({ key: r.key, kind: r.kind, status: r.status, config: r.config, result: r.result, artifactDir: r.dir }))));
    return;
  }
  if (runs.length === 0) {
    io.out('no runs match');
    return;
  }
  // the group columns, plus every other setting that differs between the listed runs
  const flat = runs.map((r) => flatten(r.config));
  const names = [...new Set(flat.flatMap((f) => Object.keys(f)))];
  const varying = names.filter((n) => !(GROUP_COLUMNS as readonly string[]).includes(n) && new Set(flat.map((f) => JSON.stringify(f[n]))).size > 1);
  const settings = [...GROUP_COLUMNS.filter((c) => flat.some((f) => f[c] !== undefined)), ...varying];
  const rows = runs.map((r, i) => [
    r.key.slice(0, 12),
    r.kind,
    r.status,
    ...settings.map((s) => raw(flat[i][s])),
    num(r.result?.score),
    pct(r.result?.testAcc),
    r.dir ?? '-',
  ]);
  for (const l of table(['key', 'kind', 'status', ...settings, 'score', 'testAcc', 'artifacts'], rows)) io.out(l);
  io.out(`${runs.length} run(s); spurlab runs show KEY for one in full`);
}

function history(run: FoundRun): EpochRecord[] | undefined {
  if (!run.dir) return undefined;
  return readJson<EpochRecord[]>(join(run.dir, 'history.json'));
}

function showRun(run: FoundRun, io: { out: (l: string) => void }, json: boolean): void {
  const h = history(run);
  const rec = run.record;
  if (json) {
    io.out(
      JSON.stringify({
        key: run.key,
        kind: run.kind,
        status: run.status,
        config: run.config,
        result: run.result,
        history: h ?? null,
        artifactDir: run.dir,
        ...(rec
          ? {
              error: rec.error,
              codeVersion: rec.codeVersion,
              host: rec.host,
              attempts: rec.attempts,
              startedAt: rec.startedAt,
              finishedAt: rec.finishedAt,
              seconds: rec.seconds,
            }
          : {}),
      }),
    );
    return;
  }
  io.out(`run ${run.key} (${run.kind}, ${run.status})`);
  if (rec)
    io.out(
      `  started ${rec.startedAt}${rec.finishedAt ? `, finished ${rec.finishedAt}` : ''}${rec.seconds !== null ? ` (${rec.seconds.toFixed(1)} s)` : ''}, host ${rec.host ?? '-'}, code ${rec.codeVersion ?? '-'}, attempts ${rec.attempts}`,
    );
  if (rec?.error) io.out(`  error: ${rec.error.split('\n')[0]}`);
  io.out(`  artifacts: ${run.dir ?? 'none kept'}`);
  io.out('config:');
  for (const [k, v] of Object.entries(flatten(run.config)).sort(([a], [b]) => a.localeCompare(b))) io.out(`  ${k} = ${raw(v)}`);
  io.out('result:');
  if (!run.result) io.out('  (none yet)');
  for (const [k, v] of Object.entries(flatten(run.result))) io.out(`  ${k} = ${show(k, v)}`);
  io.out('history:');
  if (!h) io.out('  (no history.json: the run kept no artifacts)');
  else
    for (const l of table(
      ['epoch', 'loss', 'trainAcc', 'testAcc', 'lr', 'seconds'],
      h.map((e) => [String(e.epoch), e.loss.toFixed(4), pct(e.trainAcc), pct(e.testAcc), String(e.lr), e.seconds.toFixed(1)]),
    ))
      io.out(`  ${l}`);
}

/** A row of block characters for a series: the curve at a glance, beside the numbers. */
function sparkline(values: number[], lo: number, hi: number): string {
  const bars = '▁▂▃▄▅▆▇█';
  return values.map((v) => bars[hi > lo ? Math.min(7, Math.max(0, Math.round(((v - lo) / (hi - lo)) * 7))) : 3]).join('');
}

function compareRuns(a: FoundRun, b: FoundRun, io: { out: (l: string) => void }): void {
  io.out(`A = ${a.key} (${a.kind}, ${a.status})`);
  io.out(`B = ${b.key} (${b.kind}, ${b.status})`);
  const fa = flatten(a.config);
  const fb = flatten(b.config);
  const names = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  const differ = names.filter((n) => JSON.stringify(fa[n]) !== JSON.stringify(fb[n]));
  io.out(differ.length === 0 ? 'config: identical' : `config: ${differ.length} difference(s), ${names.length - differ.length} setting(s) equal`);
  for (const l of table(
    ['setting', 'A', 'B'],
    differ.map((n) => [n, raw(fa[n]), raw(fb[n])]),
  ))
    if (differ.length > 0) io.out(`  ${l}`);
  const ra = flatten(a.result);
  const rb = flatten(b.result);
  const results = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((k) => !Array.isArray(ra[k]) && !Array.isArray(rb[k]));
  io.out('results:');
  for (const l of table(
    ['', 'A', 'B'],
    results.map((k) => [k, show(k, ra[k]), show(k, rb[k])]),
  ))
    io.out(`  ${l}`);
  const ha = history(a) ?? [];
  const hb = history(b) ?? [];
  io.out('training curves:');
  if (ha.length === 0 && hb.length === 0) {
    io.out('  (neither run kept a history.json)');
    return;
  }
  const epochs = Math.max(ha.length, hb.length);
  const cell = (h: EpochRecord[], i: number, f: (e: EpochRecord) => string) => (h[i] ? f(h[i]) : '-');
  const rows = Array.from({ length: epochs }, (_, i) => [
    String(i + 1),
    cell(ha, i, (e) => e.loss.toFixed(4)),
    cell(hb, i, (e) => e.loss.toFixed(4)),
    cell(ha, i, (e) => pct(e.testAcc)),
    cell(hb, i, (e) => pct(e.testAcc)),
  ]);
  for (const l of table(['epoch', 'A loss', 'B loss', 'A testAcc', 'B testAcc'], rows)) io.out(`  ${l}`);
  const losses = [...ha, ...hb].map((e) => e.loss);
  const accs = [...ha, ...hb].map((e) => e.testAcc);
  const [lLo, lHi, aLo, aHi] = [Math.min(...losses), Math.max(...losses), Math.min(...accs), Math.max(...accs)];
  io.out(
    `  loss     A ${sparkline(
      ha.map((e) => e.loss),
      lLo,
      lHi,
    ).padEnd(epochs)}  B ${sparkline(
      hb.map((e) => e.loss),
      lLo,
      lHi,
    )}   (${lLo.toFixed(4)} to ${lHi.toFixed(4)})`,
  );
  io.out(
    `  testAcc  A ${sparkline(
      ha.map((e) => e.testAcc),
      aLo,
      aHi,
    ).padEnd(epochs)}  B ${sparkline(
      hb.map((e) => e.testAcc),
      aLo,
      aHi,
    )}   (${pct(aLo)} to ${pct(aHi)})`,
  );
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Every config column and result: CSV with config.* and result.* columns, or one JSON object per line. */
function exportRuns(runs: FoundRun[], format: string): string[] {
  const meta = (r: FoundRun) => ({
    key: r.key,
    kind: r.kind,
    status: r.status,
    startedAt: r.record?.startedAt ?? null,
    finishedAt: r.record?.finishedAt ?? null,
    seconds: r.record?.seconds ?? null,
    codeVersion: r.record?.codeVersion ?? null,
    host: r.record?.host ?? null,
    artifactDir: r.dir,
  });
  if (format === 'jsonl')
    return runs.map((r) => JSON.stringify(r.record ? exportedRun(r.record, r.dir) : { ...meta(r), config: r.config, result: r.result }));
  const rows = runs.map(
    (r) =>
      ({
        ...meta(r),
        ...Object.fromEntries(Object.entries(flatten(r.config)).map(([k, v]) => [`config.${k}`, v])),
        ...Object.fromEntries(Object.entries(flatten(r.result)).map(([k, v]) => [`result.${k}`, v])),
      }) as Record<string, unknown>,
  );
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const fixed = Object.keys(meta({ key: '', kind: '', status: '', config: {}, result: null, dir: null }));
  const ordered = [...fixed, ...cols.filter((c) => c.startsWith('config.')).sort(), ...cols.filter((c) => c.startsWith('result.')).sort()];
  return [ordered.join(','), ...rows.map((r) => ordered.map((c) => csvCell(r[c])).join(','))];
}

function positionals(args: ParsedArgs, count: number, what: string): string[] {
  const rest = args.positionals.slice(1);
  if (rest.length !== count) throw new UserError(`runs ${args.positionals[0]}: expected ${what}, got ${rest.length} argument(s)\nusage: ${USAGE}`);
  return rest;
}

export const runsCommand: Command = {
  name: 'runs',
  summary: 'Find runs: list them with settings, status, score and artifacts; show one; compare two; export all as CSV or JSON lines.',
  usage: USAGE,
  options: {
    where: {
      type: 'string',
      help: 'K=V,...: keep runs whose setting K (a config key, dotted path, status, kind, key or result.NAME) equals V',
      defaultText: 'all runs',
    },
    store: { type: 'string', help: 'PATH: the results store', defaultText: DEFAULT_RESULTS_PATH },
    format: { type: 'string', help: 'csv|jsonl: export format (accuracies as 0-1 fractions)', defaultText: 'required for export' },
    out: { type: 'string', help: 'FILE: export: write there instead of to stdout', defaultText: 'stdout' },
    json: { type: 'boolean', help: 'list and show: print JSON (accuracies as 0-1 fractions)' },
  },
  example: 'spurlab runs --where pattern=S3,n=3,status=done',
  async run(args, io) {
    const sub = args.positionals[0] ?? 'list';
    const subs = ['list', 'show', 'compare', 'export', 'import'];
    if (!subs.includes(sub)) {
      const guess = closest(sub, subs);
      throw new UserError(`unknown subcommand "${sub}"${guess ? `; did you mean "${guess}"?` : ''}, expected ${subs.join(', ')}\nusage: ${USAGE}`);
    }
    if (sub === 'import') return importRuns(args, io);
    const source = new RunSource(resolve(stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH));
    try {
      const json = flag(args, 'json');
      const where = parseWhere(stringOption(args, 'where'));
      if (sub === 'list') {
        positionals(args, 0, 'no arguments (filter with --where)');
        listRuns(filterRuns(source.all(), where), io, json);
      } else if (sub === 'show') {
        const [ref] = positionals(args, 1, 'one run (KEY or DIR)');
        showRun(source.find(ref), io, json);
      } else if (sub === 'compare') {
        const [a, b] = positionals(args, 2, 'two runs (A B)');
        compareRuns(source.find(a), source.find(b), io);
      } else {
        positionals(args, 0, 'no arguments');
        const format = stringOption(args, 'format');
        if (format !== 'csv' && format !== 'jsonl')
          throw new UserError(`--format: got ${format === undefined ? 'nothing' : JSON.stringify(format)}, expected csv or jsonl`);
        const lines = exportRuns(filterRuns(source.all(), where), format);
        const out = stringOption(args, 'out');
        if (out === undefined) for (const l of lines) io.out(l);
        else {
          try {
            writeFileSync(out, lines.join('\n') + '\n');
          } catch (e) {
            throw new UserError(`--out ${out}: cannot write (${(e as Error).message})`);
          }
          io.out(`wrote ${lines.length - (format === 'csv' ? 1 : 0)} run(s) to ${out}`);
        }
      }
      return 0;
    } finally {
      source.close();
    }
  },
};

/** `runs import FILE`: every done run of a jsonl export into the store (created if missing). */
function importRuns(args: ParsedArgs, io: { out: (l: string) => void }): number {
  const [file] = positionals(args, 1, 'one file (a `runs export --format jsonl` file)');
  const { runs, notDone } = readExportedRuns(file);
  const storePath = stringOption(args, 'store') ?? DEFAULT_RESULTS_PATH;
  const store = ResultsStore.open(storePath);
  try {
    const { imported, present } = store.importRuns(runs);
    io.out(
      `imported ${imported} run(s) from ${file} into ${storePath}` +
        (present > 0 ? `; ${present} already there, kept as they were` : '') +
        (notDone > 0 ? `; ${notDone} not done, skipped` : ''),
    );
    return 0;
  } finally {
    store.close();
  }
}
