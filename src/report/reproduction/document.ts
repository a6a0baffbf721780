/**
 * docs/REPRODUCTION.md from a results store (`spurlab report --reproduction`): for each
 * of the paper's six findings its claim, the runs behind it, a verdict with the reason,
 * the figures (the ordinary report's charts of exactly those runs) and the numbers. The
 * runs are the reproduction's (experiments/reproduction.ts, one budget); other runs in
 * the store are left out, so the document never mixes settings.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join, relative } from 'node:path';
import { type Budget, FINDING_IDS, type FindingId, type FindingPlan, kindCounts, planReproduction } from '../../experiments/reproduction.ts';
import type { ResultsStore, RunRecord } from '../../store/results.ts';
import { version } from '../../version.ts';
import { writeChartFiles, writeTextFile } from '../build.ts';
import { collectReportData } from '../collect.ts';
import { planReport, type ReportChart } from '../sections.ts';
import { toMarkdown } from '../tables.ts';
import { exportedRun } from '../../store/runExport.ts';
import { assessArchitectures } from './architectures.ts';
import { assessDeletion } from './deletion.ts';
import { assessExamples } from './examples.ts';
import { assessMembership } from './membership.ts';
import { assessMitigations } from './mitigations.ts';
import { assessNorm } from './norm.ts';
import { type Assessment, type FindingRuns, notRun, type Verdict } from './types.ts';

const ASSESS: Record<FindingId, (f: FindingRuns) => Assessment> = {
  examples: assessExamples,
  norm: assessNorm,
  architectures: assessArchitectures,
  deletion: assessDeletion,
  mia: assessMembership,
  mitigations: assessMitigations,
};

/** The ordinary report's sections whose figures each finding shows. */
const FIGURE_SECTIONS: Record<FindingId, string[]> = {
  examples: ['patterns'],
  norm: ['pattern-norm'],
  architectures: ['architectures', 'sensitivity'],
  deletion: ['deletion'],
  mia: ['membership-inference', 'lira'],
  mitigations: ['mitigation-weight-decay', 'mitigation-input-noise', 'mitigation-clipping'],
};

export interface ReproductionOptions {
  budget: Budget;
  /** The Markdown file; figures go to <its directory>/reproduction/. */
  out: string;
  png?: boolean;
  /** Written into the header: how the store was named on the command line. */
  storeLabel?: string;
}

export interface FindingSummary {
  finding: FindingId;
  verdict: Verdict;
  reason: string;
  runs: number;
  done: number;
  /** Every planned run of the finding is in the store. */
  complete: boolean;
  figures: string[];
}

export interface ReproductionResult {
  path: string;
  findings: FindingSummary[];
  files: string[];
  warnings: string[];
}

interface WallTime {
  /** Seconds during which at least one run was in progress: the union of the runs'
   *  start-to-finish intervals, so a reproduction run in pieces, sessions apart, does not
   *  count the time between its pieces. */
  span: number;
  /** Sum of the runs' own times, seconds. */
  busy: number;
  /** Stretches with no gap over 10 minutes, [start, end] in milliseconds. */
  pieces: [number, number][];
}

/** Runs more than this far apart belong to different pieces of a reproduction. */
const PIECE_GAP_MS = 10 * 60 * 1000;

/** Intervals [start, end] merged where they overlap or lie within `gap` of each other, in order. */
function mergeIntervals(intervals: readonly (readonly [number, number])[], gap: number): [number, number][] {
  const merged: [number, number][] = [];
  for (const [start, end] of [...intervals].sort((x, y) => x[0] - y[0])) {
    const last = merged.at(-1);
    if (last && start - last[1] <= gap) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

/**
 * The union of [start, end] intervals (milliseconds) as its length in seconds, and the
 * pieces it falls into: stretches of it with no gap over 10 minutes.
 */
export function activeTime(intervals: readonly (readonly [number, number])[]): { seconds: number; pieces: [number, number][] } {
  const union = mergeIntervals(
    intervals.filter(([a, b]) => Number.isFinite(a + b)),
    0,
  );
  return { seconds: union.reduce((t, [a, b]) => t + (b - a), 0) / 1000, pieces: mergeIntervals(union, PIECE_GAP_MS) };
}

function wallTime(runs: RunRecord[]): WallTime {
  const active = activeTime(runs.map((r) => [Date.parse(r.startedAt), Date.parse(r.finishedAt ?? r.heartbeatAt)] as const));
  // no run with readable times: no wall time, rather than 0
  const span = active.pieces.length > 0 ? active.seconds : NaN;
  return { span, busy: runs.length > 0 ? runs.reduce((s, r) => s + (r.seconds ?? 0), 0) : NaN, pieces: active.pieces };
}

/** "2026-12-01 12:16–12:50 UTC" */
function formatPiece([a, b]: [number, number]): string {
  const iso = (t: number) => new Date(t).toISOString();
  const day = (t: number) => iso(t).slice(0, 10);
  const hm = (t: number) => iso(t).slice(11, 16);
  return day(a) === day(b) ? `${day(a)} ${hm(a)}–${hm(b)} UTC` : `${day(a)} ${hm(a)} UTC – ${day(b)} ${hm(b)} UTC`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const m = Math.round(seconds / 60);
  return m < 60 ? `${Math.max(1, m)} min` : `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

const VERDICT_MARK: Record<Verdict, string> = {
  reproduced: 'reproduced',
  'partly reproduced': 'partly reproduced',
  'not reproduced': 'not reproduced',
  inconclusive: 'inconclusive',
  'not run': 'not run yet',
};

function kindsText(runs: readonly { kind: string }[]): string {
  return Object.entries(kindCounts(runs))
    .map(([k, c]) => `${c} ${k}`)
    .join(', ');
}

function distinct(values: (string | null)[]): string {
  const set = [...new Set(values.filter((v): v is string => v !== null))].sort();
  return set.length > 0 ? set.join(', ') : '–';
}

interface Assessed {
  plan: FindingPlan;
  done: RunRecord[];
  assessment: Assessment;
  charts: ReportChart[];
}

function assess(store: ResultsStore, allDone: readonly RunRecord[], plan: FindingPlan, budget: Budget): Assessed {
  const keys = new Set(plan.runs.map((r) => r.key));
  const done = allDone.filter((r) => keys.has(r.key));
  const command = `spurlab reproduce --budget ${budget} --only ${plan.finding.id}`;
  if (done.length === 0) return { plan, done, assessment: notRun(command), charts: [] };
  const data = collectReportData(store, { onlyKeys: keys, done: allDone });
  const report = planReport(data);
  const charts = report.sections
    .filter((s) => FIGURE_SECTIONS[plan.finding.id].includes(s.id))
    .flatMap((s) => s.charts)
    .map((c) => ({ ...c, name: `${plan.finding.id}-${c.name}` }));
  return { plan, done, assessment: ASSESS[plan.finding.id]({ plan, done, data }), charts };
}

/** Writes the document and its figures; returns what each finding's verdict is. */
export async function buildReproductionReport(store: ResultsStore, opts: ReproductionOptions): Promise<ReproductionResult> {
  const plans = planReproduction(opts.budget, FINDING_IDS);
  const figureDir = join(dirname(opts.out), 'reproduction');
  const files: string[] = [];
  const warnings: string[] = [];
  // the store's done runs, read once for the six findings
  const storeDone = store.list({ status: 'done' });
  const assessed = plans.map((p) => assess(store, storeDone, p, opts.budget));
  const figureLinks = new Map<Assessed, string[]>();
  for (const a of assessed) {
    const links: string[] = [];
    for (const chart of a.charts) {
      const written = await writeChartFiles(figureDir, chart, opts.png ?? true);
      files.push(...written.files);
      warnings.push(...written.warnings);
      const shown = written.files.find((f) => f.endsWith('.png')) ?? written.files[0];
      links.push(relative(dirname(opts.out), shown).split('\\').join('/'));
    }
    figureLinks.set(a, links);
  }
  const allDone = [...new Map(assessed.flatMap((a) => a.done).map((r) => [r.key, r])).values()];
  const exportPath = join(figureDir, 'runs.jsonl');
  writeTextFile(exportPath, allDone.map((r) => `${JSON.stringify(compactRun(r))}\n`).join(''));
  files.push(exportPath);
  const exportLink = relative(dirname(opts.out), exportPath).split('\\').join('/');
  const allPlanned = new Set(plans.flatMap((p) => p.runs.map((r) => r.key)));
  const total = wallTime(allDone);
  const cpu = cpus();
  const lines: string[] = [
    '# Reproducing "Understanding Rare Spurious Correlations in Neural Networks"',
    '',
    `Generated by \`spurlab report --reproduction --budget ${opts.budget}\` (spurlab ${version}${gitCommit()}) from the results store \`${opts.storeLabel ?? store.path}\`. ` +
      'Every number below comes from the runs of that store; rerunning the command on the same store gives the same document. ' +
      'Tests are over runs (seeds), never over the test images of one model. A verdict counts the settings that show the claimed effect at p < 0.05: all of them "reproduced", at least half "partly reproduced", fewer "not reproduced".',
    '',
    `- Budget: **${opts.budget}** (${(plans[0]!.sweep.description ?? '').replace(/^[^:]*: /, '')}).`,
    `- Runs: ${allDone.length} of ${allPlanned.size} planned runs done (${kindsText(allDone)}).`,
    `- Code: runs recorded by spurlab ${distinct(allDone.map((r) => r.codeVersion))} on ${distinct(allDone.map((r) => r.host))}.`,
    `- Wall time: ${formatDuration(total.span)} with runs in progress (from the first run's start to the last one's end, less any time when no run was in progress, also inside a piece), ${formatDuration(total.busy)} of run time summed over runs${total.pieces.length > 1 ? `; run in ${total.pieces.length} pieces: ${total.pieces.map(formatPiece).join(', ')}` : ''}.`,
    `- This document was generated on ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}.`,
    `- The runs: [${exportLink}](${exportLink}), one JSON line per run (config, result, times, code version, host); \`spurlab runs import ${exportLink} --store S\` rebuilds a store that gives this document again.`,
    '- Where spurlab departs from the reference code, and why: [DEPARTURES.md](DEPARTURES.md).',
    '',
    ...(opts.budget === 'fast'
      ? [
          "The fast budget trains 5 epochs on 10,000 training images with the paper's 5 seeds, so its models are less trained than the paper's (70 epochs on all 60,000) and its tests have modest power: a large effect over 5 seeds can still miss p < 0.05, and a finding that does not reproduce here may hold at the paper's budget (`spurlab reproduce --budget paper`, best through the queue or Slurm). The tables give the effect sizes beside the p-values.",
          '',
        ]
      : []),
    '## Summary',
    '',
    '| | finding | verdict | runs done | reason |',
    '|---:|:---|:---|---:|:---|',
    ...assessed.map(
      (a) =>
        `| ${a.plan.finding.number} | [${a.plan.finding.title}](#${anchor(a)}) | ${verdictText(a)} | ${a.done.length} of ${a.plan.runs.length} | ${a.assessment.reason.replace(/\|/g, '\\|')} |`,
    ),
    '',
  ];
  for (const a of assessed) {
    const f = a.plan.finding;
    // the time of the runs this finding adds (shared runs count under the finding that has them first)
    const own = new Set(a.plan.newRuns.map((r) => r.key));
    const ownDone = a.done.filter((r) => own.has(r.key));
    const time = wallTime(ownDone);
    lines.push(`## ${heading(a)}`, '');
    lines.push(`**The paper's claim.** ${f.claim}`, '');
    lines.push(
      `**Runs.** ${a.done.length} of ${a.plan.runs.length} done (${kindsText(a.plan.runs)} planned)` +
        (a.plan.reuses.length > 0 ? `, some shared with finding ${a.plan.reuses.map((id) => FINDING_IDS.indexOf(id) + 1).join(', ')}` : '') +
        `; the same runs as \`spurlab sweep ${a.plan.sweep.name}\`.` +
        (ownDone.length > 0
          ? ` Its own ${ownDone.length} runs: wall time ${formatDuration(time.span)}, run time ${formatDuration(time.busy)}.`
          : a.done.length > 0
            ? ' All its runs belong to an earlier finding.'
            : ''),
      '',
    );
    lines.push(`**Verdict: ${verdictText(a)}.** ${a.assessment.reason}`, '');
    if (incomplete(a))
      lines.push(
        `Incomplete: ${a.plan.runs.length - a.done.length} of the finding's ${a.plan.runs.length} runs are not in the store yet, so the verdict may change; \`spurlab reproduce --budget ${opts.budget} --only ${f.id}\` runs them.`,
        '',
      );
    for (const n of a.assessment.notes) lines.push(`${n}`, '');
    for (const link of figureLinks.get(a) ?? []) lines.push(`![${f.title}: ${basename(link)}](${link})`, '');
    for (const t of a.assessment.tables) lines.push(toMarkdown(t));
    if (a.assessment.details.length > 0) {
      lines.push('<details><summary>Every setting</summary>', '');
      for (const t of a.assessment.details) lines.push(toMarkdown(t));
      lines.push('</details>', '');
    }
  }
  lines.push(
    '## Regenerating',
    '',
    '```',
    `spurlab reproduce --budget ${opts.budget}            # resumable: runs what the store lacks`,
    `spurlab report --reproduction --budget ${opts.budget} --out ${basename(opts.out)}`,
    '```',
    '',
  );
  writeTextFile(opts.out, lines.join('\n'));
  return {
    path: opts.out,
    findings: assessed.map((a) => ({
      finding: a.plan.finding.id,
      verdict: a.assessment.verdict,
      reason: a.assessment.reason,
      runs: a.plan.runs.length,
      done: a.done.length,
      complete: a.done.length === a.plan.runs.length,
      figures: figureLinks.get(a) ?? [],
    })),
    files: [opts.out, ...files],
    warnings,
  };
}

const incomplete = (a: Assessed) => a.done.length > 0 && a.done.length < a.plan.runs.length;

function verdictText(a: Assessed): string {
  return `${VERDICT_MARK[a.assessment.verdict]}${incomplete(a) ? ' (incomplete)' : ''}`;
}

/**
 * A run as the committed export keeps it: a LiRA shadow model's per-example statistics
 * (base64 arrays of the whole pool, ~200 kB a model) only feed its attack run, whose
 * result is kept whole, so they are left out; no artifact directory (a local path).
 */
function compactRun(r: RunRecord): object {
  const e = exportedRun(r, null);
  if (r.kind === 'lira-shadow' && e.result) {
    const { stats: _s, correct: _c, ...rest } = e.result;
    return { ...e, result: { ...rest, omitted: ['stats', 'correct'] } };
  }
  return e;
}

/** ", git abc1234" when spurlab runs from a git checkout (an installed package has none). */
function gitCommit(): string {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const r = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 && /^[0-9a-f]{4,}$/.test(r.stdout.trim()) ? `, git ${r.stdout.trim()}` : '';
}

function heading(a: Assessed): string {
  return `(${a.plan.finding.number}) ${a.plan.finding.title}`;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function anchor(a: Assessed): string {
  return heading(a)
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}
