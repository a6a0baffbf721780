// The files a Slurm sweep is made of: DIR/sweep.json (the planned runs of any kind, by
// stage, and the code version they were planned by), DIR/sweep.sbatch (a job array,
// task i runs run i), DIR/submit.sh (one sbatch per stage, each stage after the one
// before with --dependency=afterok) and DIR/results/<i>.json (one finished run each). Readers check
// every field and name the file and the field when one is wrong.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../store/atomic.ts';
import { findKind, kindKey, type PlannedRun } from '../experiments/kinds/index.ts';
import { UserError } from '../util/errors.ts';
import { decodePerImage } from './jobs.ts';

export const SWEEP_FILE = 'sweep.json';
export const SBATCH_FILE = 'sweep.sbatch';
export const SUBMIT_FILE = 'submit.sh';
export const RESULTS_DIR = 'results';

export interface SlurmSweepFile {
  format: 'spurlab-slurm-sweep';
  formatVersion: 2;
  name: string;
  codeVersion: string;
  createdAt: string;
  artifacts: boolean; // checkpoints to DIR/artifacts/<key> unless run-index is told otherwise
  runs: PlannedRun[]; // sorted by stage
  /** Index ranges of the stages: stage s is runs first..last, submitted after stage s - 1 finished. */
  stages: { stage: number; first: number; last: number }[];
}

export interface RunResultFile {
  format: 'spurlab-run-result';
  formatVersion: 2;
  index: number;
  key: string;
  kind: string;
  config: object;
  result: object;
  perImage: string | null; // base64 0/1 indicator (kinds that score per image)
  codeVersion: string;
  host: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
}

export interface SlurmEmitOptions {
  name: string;
  codeVersion: string;
  runs: PlannedRun[];
  artifacts: boolean;
  cpusPerTask: number;
  time: string; // Slurm's time limit syntax, e.g. 04:00:00
  partition?: string;
}

/** Single-quotes a word for bash. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function stageRanges(runs: PlannedRun[]): SlurmSweepFile['stages'] {
  const out: SlurmSweepFile['stages'] = [];
  runs.forEach((r, i) => {
    const last = out.at(-1);
    if (last && r.stage < last.stage) throw new Error('emitSlurmSweep: runs must be sorted by stage');
    if (last && last.stage === r.stage) last.last = i;
    else out.push({ stage: r.stage, first: i, last: i });
  });
  return out;
}

/** Writes DIR/sweep.json, DIR/sweep.sbatch and DIR/submit.sh (and DIR/logs for Slurm's output files). */
export function emitSlurmSweep(
  dirArg: string,
  o: SlurmEmitOptions,
): { sweepFile: string; script: string; submit: string; stages: SlurmSweepFile['stages'] } {
  if (o.runs.length === 0) throw new UserError(`sweep ${o.name}: no runs to emit`);
  const stages = stageRanges(o.runs);
  const dir = resolve(dirArg);
  mkdirSync(join(dir, RESULTS_DIR), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const sweep: SlurmSweepFile = {
    format: 'spurlab-slurm-sweep',
    formatVersion: 2,
    name: o.name,
    codeVersion: o.codeVersion,
    createdAt: new Date().toISOString(),
    artifacts: o.artifacts,
    runs: o.runs,
    stages,
  };
  const sweepFile = join(dir, SWEEP_FILE);
  writeFileAtomicSync(sweepFile, JSON.stringify(sweep, null, 1) + '\n');
  const bin = fileURLToPath(new URL('../../bin/spurlab.mjs', import.meta.url));
  const q = shellQuote;
  const script = [
    '#!/bin/bash',
    `# spurlab sweep "${o.name}": ${o.runs.length} runs as a Slurm job array (spurlab ${o.codeVersion}).`,
    '# Submit from a machine that sees this directory and this copy of spurlab:',
    stages.length > 1
      ? `#   bash ${q(join(dir, SUBMIT_FILE))}   (${stages.length} stages: runs that need a trained model wait for its stage with --dependency=afterok)`
      : `#   sbatch ${q(join(dir, SBATCH_FILE))}`,
    '# and load what has finished into a results store (at any time; loading twice is harmless):',
    `#   spurlab collect ${q(dir)} --store PATH`,
    `# Task i runs run i of ${SWEEP_FILE} and writes ${RESULTS_DIR}/<i>.json; a task rerun after its`,
    '# result exists does nothing. Clusters cap array sizes (MaxArraySize, often 1001): submit in parts',
    '# with e.g. `sbatch --array=0-999 ...` then `--array=1000-1999`; the command line overrides the line below.',
    '# $SPURLAB (split on spaces) overrides how spurlab starts on the compute nodes; default: this node and install.',
    `#SBATCH --job-name=spurlab-${o.name.replace(/[^A-Za-z0-9._-]+/g, '-')}`,
    `#SBATCH --array=${stages[0].first}-${stages[0].last}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${o.cpusPerTask}`,
    `#SBATCH --time=${o.time}`,
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    `#SBATCH --output=${join(dir, 'logs', '%A_%a.out')}`,
    'set -euo pipefail',
    'export SPURLAB_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    `if [ -n "\${SPURLAB:-}" ]; then read -ra spurlab <<< "$SPURLAB"; else spurlab=(${q(process.execPath)} ${q(bin)}); fi`,
    `"\${spurlab[@]}" run-index ${q(sweepFile)} "$SLURM_ARRAY_TASK_ID" --out ${q(join(dir, RESULTS_DIR))}`,
    '',
  ].join('\n');
  const scriptPath = join(dir, SBATCH_FILE);
  writeFileAtomicSync(scriptPath, script);
  const submit = [
    '#!/bin/bash',
    `# Submits the ${stages.length} stage(s) of spurlab sweep "${o.name}"; stage s starts when every task of stage s - 1 succeeded.`,
    'set -euo pipefail',
    'previous=""',
    ...stages.map(
      (st) =>
        `previous=$(sbatch --parsable --array=${st.first}-${st.last}\${previous:+ --dependency=afterok:\${previous%%;*}} ${q(scriptPath)})  # stage ${st.stage}: runs ${st.first}-${st.last}`,
    ),
    `echo "submitted; load the results with: spurlab collect ${dir.replace(/"/g, '\\"')} --store PATH"`,
    '',
  ].join('\n');
  const submitPath = join(dir, SUBMIT_FILE);
  writeFileAtomicSync(submitPath, submit);
  return { sweepFile, script: scriptPath, submit: submitPath, stages };
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: the ${what} is not valid JSON (${(e as Error).message}); delete it to have it made again`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readSlurmSweep(path: string): SlurmSweepFile {
  const doc = readJson(path, 'Slurm sweep file');
  if (!isObject(doc) || doc.format !== 'spurlab-slurm-sweep')
    throw new UserError(`${path}: not a spurlab Slurm sweep file (expected "format": "spurlab-slurm-sweep", made by spurlab sweep --emit slurm)`);
  if (doc.formatVersion !== 2)
    throw new UserError(`${path}: formatVersion ${JSON.stringify(doc.formatVersion)}, this spurlab reads 2; emit the sweep again`);
  if (typeof doc.codeVersion !== 'string' || typeof doc.name !== 'string') throw new UserError(`${path}: "name" and "codeVersion" must be strings`);
  if (
    !Array.isArray(doc.runs) ||
    !doc.runs.every((r) => isObject(r) && typeof r.kind === 'string' && typeof r.key === 'string' && isObject(r.config))
  ) {
    throw new UserError(`${path}: "runs" must be a list of {kind, key, config, stage}`);
  }
  const runs: PlannedRun[] = doc.runs.map((r: Record<string, unknown>) => ({
    kind: String(r.kind),
    key: String(r.key),
    config: r.config as object,
    stage: Number(r.stage),
  }));
  const stages = Array.isArray(doc.stages) ? (doc.stages as SlurmSweepFile['stages']) : [];
  return {
    format: 'spurlab-slurm-sweep',
    formatVersion: 2,
    name: doc.name,
    codeVersion: doc.codeVersion,
    createdAt: String(doc.createdAt),
    artifacts: doc.artifacts === true,
    runs,
    stages,
  };
}

/** Reads and checks one result file against the sweep it belongs to. */
export function readRunResult(path: string, sweep: SlurmSweepFile, index: number): { file: RunResultFile; perImage: Uint8Array | undefined } {
  const doc = readJson(path, 'run result');
  const bad = (why: string) => new UserError(`${path}: ${why}; delete the file and rerun task ${index} (spurlab run-index ... ${index})`);
  if (!isObject(doc) || doc.format !== 'spurlab-run-result' || doc.formatVersion !== 2)
    throw bad('not a spurlab run result file (expected "format": "spurlab-run-result", formatVersion 2)');
  if (doc.index !== index) throw bad(`"index" is ${JSON.stringify(doc.index)} but the file name says ${index}`);
  const expected = sweep.runs[index];
  if (!expected) throw bad(`index ${index} is outside the sweep's ${sweep.runs.length} runs`);
  if (doc.kind !== expected.kind || !isObject(doc.config) || doc.key !== expected.key)
    throw bad(`its kind, configuration or key is not run ${index} of the sweep`);
  let key: string;
  try {
    const kind = findKind(expected.kind);
    key = kindKey(kind, kind.configure({ ...doc.config }));
    kind.checkResult(doc.result, path);
  } catch (e) {
    if (e instanceof UserError) throw bad(e.message);
    throw e;
  }
  if (key !== expected.key) throw bad(`its configuration is not run ${index} of the sweep`);
  if (doc.codeVersion !== sweep.codeVersion) throw bad(`computed by spurlab ${JSON.stringify(doc.codeVersion)}, the sweep by ${sweep.codeVersion}`);
  const perImage = doc.perImage === null ? undefined : decodePerImage(doc.perImage, path);
  const file: RunResultFile = {
    format: 'spurlab-run-result',
    formatVersion: 2,
    index,
    key,
    kind: expected.kind,
    config: doc.config,
    result: doc.result as object,
    perImage: doc.perImage === null ? null : String(doc.perImage),
    codeVersion: String(doc.codeVersion),
    host: String(doc.host),
    startedAt: String(doc.startedAt),
    finishedAt: String(doc.finishedAt),
    seconds: Number(doc.seconds),
  };
  return { file, perImage };
}

export function resultPath(outDir: string, index: number): string {
  return join(outDir, `${index}.json`);
}
