// The files a Slurm sweep is made of: DIR/sweep.json (the expanded configurations and
// the code version they were expanded by), DIR/sweep.sbatch (a job array, task i runs
// configuration i) and DIR/results/<i>.json (one finished run each). Readers check
// every field and name the file and the field when one is wrong.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../store/atomic.ts';
import { runKey } from '../store/runKey.ts';
import type { RunResult } from '../experiments/runner.ts';
import type { TrainConfig } from '../train/config.ts';
import { UserError } from '../util/errors.ts';
import { decodePerImage } from './jobs.ts';

export const SWEEP_FILE = 'sweep.json';
export const SBATCH_FILE = 'sweep.sbatch';
export const RESULTS_DIR = 'results';

export interface SlurmSweepFile {
  format: 'spurlab-slurm-sweep';
  formatVersion: 1;
  name: string;
  codeVersion: string;
  createdAt: string;
  artifacts: boolean; // checkpoints to DIR/artifacts/<key> unless run-index is told otherwise
  configs: TrainConfig[];
}

export interface RunResultFile {
  format: 'spurlab-run-result';
  formatVersion: 1;
  index: number;
  key: string;
  config: TrainConfig;
  result: RunResult;
  perImage: string; // base64 0/1 indicator
  codeVersion: string;
  host: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
}

export interface SlurmEmitOptions {
  name: string;
  codeVersion: string;
  configs: TrainConfig[];
  artifacts: boolean;
  cpusPerTask: number;
  time: string; // Slurm's time limit syntax, e.g. 04:00:00
  partition?: string;
}

/** Single-quotes a word for bash. */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Writes DIR/sweep.json and DIR/sweep.sbatch (and DIR/logs for Slurm's output files). */
export function emitSlurmSweep(dirArg: string, o: SlurmEmitOptions): { sweepFile: string; script: string } {
  if (o.configs.length === 0) throw new UserError(`sweep ${o.name}: no runs to emit`);
  const dir = resolve(dirArg);
  mkdirSync(join(dir, RESULTS_DIR), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const sweep: SlurmSweepFile = {
    format: 'spurlab-slurm-sweep', formatVersion: 1, name: o.name, codeVersion: o.codeVersion,
    createdAt: new Date().toISOString(), artifacts: o.artifacts, configs: o.configs,
  };
  const sweepFile = join(dir, SWEEP_FILE);
  writeFileAtomicSync(sweepFile, JSON.stringify(sweep, null, 1) + '\n');
  const bin = fileURLToPath(new URL('../../bin/spurlab.mjs', import.meta.url));
  const q = shellQuote;
  const script = [
    '#!/bin/bash',
    `# spurlab sweep "${o.name}": ${o.configs.length} runs as a Slurm job array (spurlab ${o.codeVersion}).`,
    '# Submit from a machine that sees this directory and this copy of spurlab:',
    `#   sbatch ${q(join(dir, SBATCH_FILE))}`,
    '# and load what has finished into a results store (at any time; loading twice is harmless):',
    `#   spurlab collect ${q(dir)} --store PATH`,
    `# Task i runs configuration i of ${SWEEP_FILE} and writes ${RESULTS_DIR}/<i>.json; a task rerun after its`,
    '# result exists does nothing. Clusters cap array sizes (MaxArraySize, often 1001): submit in parts',
    '# with e.g. `sbatch --array=0-999 ...` then `--array=1000-1999`; the command line overrides the line below.',
    '# $SPURLAB (split on spaces) overrides how spurlab starts on the compute nodes; default: this node and install.',
    `#SBATCH --job-name=spurlab-${o.name.replace(/[^A-Za-z0-9._-]+/g, '-')}`,
    `#SBATCH --array=0-${o.configs.length - 1}`,
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
  return { sweepFile, script: scriptPath };
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
  if (!isObject(doc) || doc.format !== 'spurlab-slurm-sweep') throw new UserError(`${path}: not a spurlab Slurm sweep file (expected "format": "spurlab-slurm-sweep", made by spurlab sweep --emit slurm)`);
  if (doc.formatVersion !== 1) throw new UserError(`${path}: formatVersion ${JSON.stringify(doc.formatVersion)}, this spurlab reads 1`);
  if (typeof doc.codeVersion !== 'string' || typeof doc.name !== 'string') throw new UserError(`${path}: "name" and "codeVersion" must be strings`);
  if (!Array.isArray(doc.configs) || !doc.configs.every(isObject)) throw new UserError(`${path}: "configs" must be a list of run configurations`);
  return doc as unknown as SlurmSweepFile;
}

/** Reads and checks one result file against the sweep it belongs to. */
export function readRunResult(path: string, sweep: SlurmSweepFile, index: number): { file: RunResultFile; perImage: Uint8Array } {
  const doc = readJson(path, 'run result');
  const bad = (why: string) => new UserError(`${path}: ${why}; delete the file and rerun task ${index} (spurlab run-index ... ${index})`);
  if (!isObject(doc) || doc.format !== 'spurlab-run-result' || doc.formatVersion !== 1) throw bad('not a spurlab run result file (expected "format": "spurlab-run-result", formatVersion 1)');
  if (doc.index !== index) throw bad(`"index" is ${JSON.stringify(doc.index)} but the file name says ${index}`);
  const expected = sweep.configs[index];
  if (!expected) throw bad(`index ${index} is outside the sweep's ${sweep.configs.length} runs`);
  if (!isObject(doc.config) || runKey(doc.config) !== runKey(expected as unknown as Record<string, unknown>) || doc.key !== runKey(doc.config)) {
    throw bad(`its configuration or key is not configuration ${index} of the sweep`);
  }
  if (!isObject(doc.result) || typeof doc.result.score !== 'number' || typeof doc.result.testAcc !== 'number') throw bad('"result" lacks a numeric score and testAcc');
  if (doc.codeVersion !== sweep.codeVersion) throw bad(`computed by spurlab ${JSON.stringify(doc.codeVersion)}, the sweep by ${sweep.codeVersion}`);
  const perImage = decodePerImage(doc.perImage, path);
  return { file: doc as unknown as RunResultFile, perImage };
}

export function resultPath(outDir: string, index: number): string {
  return join(outDir, `${index}.json`);
}
