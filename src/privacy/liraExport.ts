// Per-example LiRA scores and memorization estimates as JSON Lines or CSV: one row per
// pool example, with its score against every model as the target and whether that model
// trained on it (the ROC of any subgroup can be recomputed from these rows).
import { extname } from 'node:path';
import { UserError } from '../util/errors.ts';
import type { LiraExamples } from './liraRun.ts';

export type ExportFormat = 'jsonl' | 'csv';

/** The format a file name asks for, or a UserError naming the file. */
export function exportFormatOf(path: string): ExportFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl') return 'jsonl';
  if (ext === '.csv') return 'csv';
  throw new UserError(`--out ${path}: expected a file name ending in .jsonl or .csv`);
}

// Numbers as JSON writes them; NaN (an estimate without models on one side) as null / empty.
const jsonNumber = (v: number) => (Number.isFinite(v) ? v : null);
const csvNumber = (v: number) => (Number.isFinite(v) ? String(v) : '');

export function formatExamples(ex: LiraExamples, format: ExportFormat): string {
  const K = ex.keep.length / ex.pool.length;
  const N = ex.pool.length;
  const m = ex.memorization;
  const lines: string[] = [];
  if (format === 'csv') {
    const head = ['index', 'label', 'group', 'memorization', 'memorizationSe', 'accIn', 'accOut', 'modelsIn', 'modelsOut'];
    for (let t = 0; t < K; t++) head.push(`score_${t}`);
    for (let t = 0; t < K; t++) head.push(`in_${t}`);
    lines.push(head.join(','));
  }
  for (let i = 0; i < N; i++) {
    const scores = Array.from({ length: K }, (_, t) => ex.scores[t * N + i]);
    const members = Array.from({ length: K }, (_, t) => ex.keep[t * N + i]);
    if (format === 'jsonl') {
      lines.push(
        JSON.stringify({
          index: ex.pool[i],
          label: ex.labels[i],
          group: ex.group[i],
          memorization: jsonNumber(m.memorization[i]),
          memorizationSe: jsonNumber(m.se[i]),
          accIn: jsonNumber(m.accIn[i]),
          accOut: jsonNumber(m.accOut[i]),
          modelsIn: m.countIn[i],
          modelsOut: m.countOut[i],
          scores: scores.map(jsonNumber),
          members,
        }),
      );
    } else {
      lines.push(
        [
          ex.pool[i],
          ex.labels[i],
          ex.group[i],
          csvNumber(m.memorization[i]),
          csvNumber(m.se[i]),
          csvNumber(m.accIn[i]),
          csvNumber(m.accOut[i]),
          m.countIn[i],
          m.countOut[i],
          ...scores.map(csvNumber),
          ...members,
        ].join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}
