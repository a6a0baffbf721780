// The JSON-lines form of a run, shared by `spurlab runs export --format jsonl`, the
// reproduction's committed export (docs/reproduction/runs.jsonl) and `spurlab runs
// import`, which reads it back into a store: one object per line with the run's key,
// kind, status, times, code version, host, artifact directory, config and result.
import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.ts';
import type { ImportedRun, RunRecord } from './results.ts';

export interface ExportedRun {
  key: string;
  kind: string;
  status: string;
  startedAt: string | null;
  finishedAt: string | null;
  seconds: number | null;
  codeVersion: string | null;
  host: string | null;
  artifactDir: string | null;
  config: Record<string, unknown>;
  result: Record<string, unknown> | null;
}

export function exportedRun(r: RunRecord, artifactDir: string | null): ExportedRun {
  return {
    key: r.key,
    kind: r.kind,
    status: r.status,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    seconds: r.seconds,
    codeVersion: r.codeVersion,
    host: r.host,
    artifactDir,
    config: r.config,
    result: r.result,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The finished runs of a JSON-lines export, checked line by line (a bad line names the
 * file and line and nothing is imported). Runs not done are counted, not returned.
 */
export function readExportedRuns(path: string): { runs: ImportedRun[]; notDone: number } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(
      `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); expected a file written by \`spurlab runs export --format jsonl\``,
    );
  }
  const runs: ImportedRun[] = [];
  let notDone = 0;
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${path}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new UserError(`${where}: not JSON (${(e as Error).message}); expected one run per line as \`spurlab runs export --format jsonl\` writes`);
    }
    if (!isObject(v)) throw new UserError(`${where}: expected a JSON object (one run)`);
    for (const k of ['key', 'kind', 'status'] as const)
      if (typeof v[k] !== 'string' || v[k] === '') throw new UserError(`${where}: "${k}" is ${JSON.stringify(v[k])}; expected a non-empty string`);
    if (!isObject(v.config)) throw new UserError(`${where}: "config" is ${JSON.stringify(v.config)}; expected an object`);
    if (v.status !== 'done') {
      notDone++;
      return;
    }
    if (!isObject(v.result)) throw new UserError(`${where}: a done run without a result object`);
    if (seen.has(v.key as string)) throw new UserError(`${where}: run ${v.key} appears twice`);
    seen.add(v.key as string);
    const time = (k: 'startedAt' | 'finishedAt') => {
      const t = v[k];
      if (typeof t !== 'string' || Number.isNaN(Date.parse(t))) throw new UserError(`${where}: "${k}" is ${JSON.stringify(t)}; expected an ISO time`);
      return t;
    };
    const orNull = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : null);
    runs.push({
      key: v.key as string,
      kind: v.kind as string,
      config: v.config,
      result: v.result,
      codeVersion: orNull('codeVersion'),
      host: orNull('host'),
      startedAt: time('startedAt'),
      finishedAt: time('finishedAt'),
      seconds: typeof v.seconds === 'number' ? v.seconds : null,
    });
  });
  return { runs, notDone };
}
