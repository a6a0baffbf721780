// The two halves of a Slurm sweep that run after emission: one array task running its
// run (of any kind) into a result file (runIndex), and loading the result files into a
// results store (collectSlurmResults), each run exactly once however often either is
// repeated.
import { existsSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { findKind, kindKey } from '../experiments/kinds/index.ts';
import { writeFileAtomicSync } from '../store/atomic.ts';
import type { ResultsStore } from '../store/results.ts';
import { runDetached } from './execute.ts';
import { UserError } from '../util/errors.ts';
import { encodePerImage } from './jobs.ts';
import { readRunResult, readSlurmSweep, resultPath, RESULTS_DIR, SWEEP_FILE, type RunResultFile } from './slurmFiles.ts';

export interface RunIndexOptions {
  sweepFile: string;
  index: number;
  outDir: string;
  codeVersion: string;
  artifacts?: 'default' | 'none' | { dir: string }; // default: the sweep's choice, under DIR/artifacts
  dataDir?: string;
}

/** Runs run `index` of a Slurm sweep file into outDir/<index>.json; 'exists' if it already has a result. */
export async function runIndex(o: RunIndexOptions): Promise<{ status: 'ran' | 'exists'; path: string; file?: RunResultFile }> {
  const sweep = readSlurmSweep(o.sweepFile);
  if (!Number.isInteger(o.index) || o.index < 0 || o.index >= sweep.runs.length) {
    throw new UserError(`index ${o.index}: ${o.sweepFile} has runs 0 to ${sweep.runs.length - 1}`);
  }
  if (sweep.codeVersion !== o.codeVersion) {
    throw new UserError(
      `code version mismatch: ${o.sweepFile} was emitted by spurlab ${sweep.codeVersion}, this is ${o.codeVersion}; emit the sweep again with this copy (or run the copy that emitted it)`,
    );
  }
  const path = resultPath(o.outDir, o.index);
  // Slurm may requeue a task whose result was already written (node failure after the write)
  if (existsSync(path)) {
    readRunResult(path, sweep, o.index);
    return { status: 'exists', path };
  }
  const { kind, config, key } = sweep.runs[o.index];
  const mode = o.artifacts ?? 'default';
  // runs that depend on a trained model find it under its key here, where its task put it
  const artifactsDir =
    mode === 'none' || (mode === 'default' && !sweep.artifacts)
      ? undefined
      : mode === 'default'
        ? join(dirname(resolve(o.sweepFile)), 'artifacts')
        : resolve(mode.dir);
  const startedAt = new Date();
  const { result, perImage } = await runDetached({
    kind,
    config,
    key,
    artifactsDir,
    dataDir: o.dataDir,
    inputs: inputResults(sweep, o.outDir, kind, config),
  });
  const finishedAt = new Date();
  const file: RunResultFile = {
    format: 'spurlab-run-result',
    formatVersion: 2,
    index: o.index,
    key,
    kind,
    config,
    result,
    perImage: perImage ? encodePerImage(perImage) : null,
    codeVersion: o.codeVersion,
    host: hostname(),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
  };
  // NaN (an undefined statistic) becomes null, as in the results store
  writeFileAtomicSync(path, JSON.stringify(file, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)) + '\n');
  return { status: 'ran', path, file };
}

/**
 * The results of a run's input runs (LiRA's shadow models) that earlier tasks of the
 * sweep wrote to outDir (their stage ran first); one missing is run by the task itself.
 */
function inputResults(
  sweep: ReturnType<typeof readSlurmSweep>,
  outDir: string,
  kindName: string,
  config: object,
): Record<string, object> | undefined {
  const refs = findKind(kindName).inputs?.(config) ?? [];
  if (refs.length === 0) return undefined;
  const indexOf = new Map(sweep.runs.map((r, i) => [r.key, i]));
  const inputs: Record<string, object> = {};
  for (const ref of refs) {
    const kind = findKind(ref.kind);
    const key = kindKey(kind, kind.configure({ ...ref.config }));
    const i = indexOf.get(key);
    if (i !== undefined && existsSync(resultPath(outDir, i))) inputs[key] = readRunResult(resultPath(outDir, i), sweep, i).file.result;
  }
  return inputs;
}

export interface CollectSummary {
  runs: number; // in the sweep
  loaded: number; // recorded in the store now
  alreadyInStore: number;
  missing: number[]; // indices without a result file yet
  codeVersion: string;
}

/**
 * Loads DIR/results/<i>.json into the store. Every file is checked before anything is
 * recorded, so a corrupt file stops the whole collect with its name and nothing half-loaded.
 * The store must be opened with codeVersion = the sweep's (sweepCodeVersion tells it).
 */
export async function collectSlurmResults(dirArg: string, store: ResultsStore): Promise<CollectSummary> {
  const dir = resolve(dirArg);
  const sweep = readSlurmSweep(join(dir, SWEEP_FILE));
  const resultsDir = join(dir, RESULTS_DIR);
  const names = existsSync(resultsDir) ? readdirSync(resultsDir).filter((n) => !n.startsWith('.')) : [];
  const checked: ReturnType<typeof readRunResult>[] = [];
  for (const name of names.sort((a, b) => parseInt(a, 10) - parseInt(b, 10))) {
    const m = /^(\d+)\.json$/.exec(name);
    if (!m) throw new UserError(`${join(resultsDir, name)}: not a result file name (expected <index>.json); move it out of ${resultsDir}`);
    checked.push(readRunResult(join(resultsDir, name), sweep, Number(m[1])));
  }
  const have = new Set(checked.map((c) => c.file.index));
  const summary: CollectSummary = {
    runs: sweep.runs.length,
    loaded: 0,
    alreadyInStore: 0,
    missing: sweep.runs.map((_, i) => i).filter((i) => !have.has(i)),
    codeVersion: sweep.codeVersion,
  };
  for (const { file, perImage } of checked) {
    const kind = findKind(file.kind);
    const o = await store.runOnce({ key: file.key, config: kind.storeConfig(kind.configure({ ...file.config })), kind: file.kind }, () => ({
      result: file.result,
      perImage,
    }));
    if (o.status === 'ran') summary.loaded++;
    else if (o.status === 'done') summary.alreadyInStore++;
  }
  return summary;
}

/** The code version a Slurm sweep directory was emitted with (to open the store with it). */
export function sweepCodeVersion(dirArg: string): string {
  return readSlurmSweep(join(resolve(dirArg), SWEEP_FILE)).codeVersion;
}
