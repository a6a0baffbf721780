/**
 * The report's LiRA section (issue 20), from the store's runs of kind lira: ROC curves on
 * log-log axes (all examples against the spurious ones), TPR at 0.1% and 1% FPR against
 * n, the memorization histogram with the spurious examples marked, and a table. A
 * setting is every config field but the seed; its runs (seeds) are averaged.
 */
import { mean, standardError } from '../experiments/stats.ts';
import { formatMeanSem, formatPercentMeanSem } from './format.ts';
import { liraKind } from '../experiments/kinds/lira.ts';
import type { LiraResult } from '../privacy/liraRun.ts';
import type { RunRecord } from '../store/results.ts';
import { sectionInfo } from './catalog.ts';
import { type MemorizationPanel, type RocCurve, memorizationHistogramChart, rocLogLogChart, tprVsNChart } from './charts/lira.ts';
import type { MeanPoint } from './charts/common.ts';
import type { MeanSem } from './collect.ts';
import type { ReportSection } from './sections.ts';
import { compareFields, contextLabels, settingFields } from './settings.ts';
import type { Table, TableColumn } from './tables.ts';

/** Config fields that are not part of what a LiRA setting shows. */
const LEFT_OUT = ['seed', 'n', 'pattern', 'experiment', 'liraVersion'];

type Group = 'all' | 'spurious' | 'matchedClean';
const GROUPS: readonly Group[] = ['all', 'spurious', 'matchedClean'];
const GROUP_NAMES: Record<Group, string> = { all: 'all examples', spurious: 'spurious examples', matchedClean: 'matched clean examples' };

export interface LiraSetting {
  /** Display values of the config fields but seed, n and pattern. */
  fields: Record<string, string>;
  pattern: string;
  n: number;
  shadows: number;
  runs: number;
  auc: Record<Group, MeanSem>;
  tprAt01Fpr: Record<Group, MeanSem>;
  tprAt1Fpr: Record<Group, MeanSem>;
  memSpurious: MeanSem;
  memPopulation: MeanSem;
  /** ROC of all and of the spurious examples, TPR averaged over the runs at each FPR of the shared log grid. */
  roc: Record<'all' | 'spurious', { fpr: number; tpr: number }[]>;
  /** Memorization histogram summed over the runs, and every run's spurious examples' values. */
  histogram: { edges: number[]; counts: number[] };
  spuriousMemorization: number[];
}

function meanSem(xs: number[]): MeanSem {
  const f = xs.filter(Number.isFinite);
  return { mean: mean(f), sem: standardError(f), count: f.length };
}

// Runs share LOG_FPR_GRID, so their curves average point by point.
function meanRoc(curves: { fpr: number; tpr: number }[][]): { fpr: number; tpr: number }[] {
  const first = curves[0] ?? [];
  if (!curves.every((c) => c.length === first.length && c.every((p, i) => p.fpr === first[i].fpr))) return first;
  return first.map((p, i) => ({ fpr: p.fpr, tpr: mean(curves.map((c) => c[i].tpr)) }));
}

/** The LiRA settings of the store's done lira runs; runs whose result the kind refuses are left out. */
export function collectLira(runs: RunRecord[]): LiraSetting[] {
  const typed: { rec: RunRecord; r: LiraResult }[] = [];
  for (const rec of runs) {
    try {
      typed.push({ rec, r: liraKind.checkResult(structuredClone(rec.result), rec.key) });
    } catch {
      // a run of other code: the section draws what it can check
    }
  }
  const groups = new Map<string, typeof typed>();
  for (const t of typed) {
    const k = JSON.stringify([settingFields(t.rec.config, LEFT_OUT), t.rec.config.pattern, t.rec.config.n]);
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  return [...groups.values()]
    .map((g): LiraSetting => {
      const rs = g.map((t) => t.r);
      const per = (metric: 'auc' | 'tprAt01Fpr' | 'tprAt1Fpr') =>
        Object.fromEntries(GROUPS.map((grp) => [grp, meanSem(rs.map((r) => r[grp][metric]))])) as Record<Group, MeanSem>;
      const edges = rs[0].memorization.histogram.edges;
      const counts = edges.slice(1).map((_, i) => rs.reduce((s, r) => s + (r.memorization.histogram.counts[i] ?? 0), 0));
      return {
        fields: settingFields(g[0].rec.config, LEFT_OUT),
        pattern: String(g[0].rec.config.pattern),
        n: Number(g[0].rec.config.n),
        shadows: rs[0].shadows,
        runs: g.length,
        auc: per('auc'),
        tprAt01Fpr: per('tprAt01Fpr'),
        tprAt1Fpr: per('tprAt1Fpr'),
        memSpurious: meanSem(rs.map((r) => r.memorization.spuriousMean)),
        memPopulation: meanSem(rs.map((r) => r.memorization.populationMean)),
        roc: { all: meanRoc(rs.map((r) => r.details.roc.all)), spurious: meanRoc(rs.map((r) => r.details.roc.spurious)) },
        histogram: { edges, counts },
        spuriousMemorization: rs.flatMap((r) => r.memorization.spurious.map((s) => s.memorization)),
      };
    })
    .sort((a, b) => compareFields(a.fields, b.fields) || a.n - b.n || a.pattern.localeCompare(b.pattern));
}

// cells as "mean ± SEM" over the setting's runs (seeds); one run: the value alone
const ms = (m: MeanSem) => formatMeanSem(m.mean, m.sem);
const pct = (m: MeanSem) => formatPercentMeanSem(m.mean, m.sem);

/** AUC, TPR at 0.1% and 1% FPR (spurious against matched clean) and memorization per setting, mean ± SEM over seeds. */
export function liraTable(settings: LiraSetting[]): Table {
  const { labels, common } = contextLabels(settings.map((s) => s.fields));
  const several = new Set(labels).size > 1;
  const columns: TableColumn[] = [
    ...(several ? [{ header: 'setting', format: 'text' as const }] : []),
    { header: 'pattern', format: 'text' },
    { header: 'n', format: 'int' },
    { header: 'K', format: 'int' },
    { header: 'seeds', format: 'int' },
    { header: 'AUC (all)', format: 'score' },
    { header: 'AUC (spurious)', format: 'score' },
    { header: 'AUC (matched clean)', format: 'score' },
    { header: 'TPR at 0.1% FPR (spurious)', format: 'percent' },
    { header: 'TPR at 0.1% FPR (matched clean)', format: 'percent' },
    { header: 'TPR at 1% FPR (spurious)', format: 'percent' },
    { header: 'TPR at 1% FPR (matched clean)', format: 'percent' },
    { header: 'memorization (spurious)', format: 'score' },
    { header: 'memorization (population)', format: 'score' },
  ];
  const rows = settings.map((s, i) => [
    ...(several ? [labels[i]] : []),
    s.pattern,
    s.n,
    s.shadows,
    s.runs,
    ms(s.auc.all),
    ms(s.auc.spurious),
    ms(s.auc.matchedClean),
    pct(s.tprAt01Fpr.spurious),
    pct(s.tprAt01Fpr.matchedClean),
    pct(s.tprAt1Fpr.spurious),
    pct(s.tprAt1Fpr.matchedClean),
    ms(s.memSpurious),
    ms(s.memPopulation),
  ]);
  return {
    name: 'lira',
    caption: `LiRA membership inference and memorization, mean ± SEM over seeds${common ? ` (${common})` : ''}`,
    columns,
    rows,
  };
}

/** The LiRA section, or undefined when the store has no lira runs. */
export function liraSection(settings: LiraSetting[]): ReportSection | undefined {
  if (settings.length === 0) return undefined;
  const { labels, common } = contextLabels(settings.map((s) => s.fields));
  const several = new Set(labels).size > 1;
  const label = (s: LiraSetting, i: number) => [several ? labels[i] : '', `n = ${s.n}`].filter(Boolean).join(' · ');
  const rocCurves: RocCurve[] = settings.flatMap((s, i) =>
    (['all', 'spurious'] as const).map((g) => ({ series: s.pattern, dash: GROUP_NAMES[g], facet: label(s, i), points: s.roc[g] })),
  );
  const tprPoints: MeanPoint[] = settings.flatMap((s, i) =>
    (['spurious', 'matchedClean', 'all'] as const).flatMap((g) =>
      (
        [
          ['TPR at 0.1% FPR', s.tprAt01Fpr[g]],
          ['TPR at 1% FPR', s.tprAt1Fpr[g]],
        ] as const
      ).map(([rate, m]) => ({
        x: s.n,
        mean: m.mean,
        sem: m.sem,
        series: s.pattern,
        dash: GROUP_NAMES[g],
        facet: several ? `${rate} · ${labels[i]}` : rate,
      })),
    ),
  );
  const panels: MemorizationPanel[] = settings.map((s, i) => ({
    series: s.pattern,
    facet: `${s.pattern} · ${label(s, i)}`,
    edges: s.histogram.edges,
    counts: s.histogram.counts,
    spurious: s.spuriousMemorization,
  }));
  const subtitle = common || undefined;
  return {
    ...sectionInfo('lira'),
    charts: [
      { name: 'lira-roc', spec: rocLogLogChart(rocCurves, { title: 'LiRA ROC curves: all examples against the spurious ones', subtitle }) },
      { name: 'lira-tpr-vs-n', spec: tprVsNChart(tprPoints, { title: 'LiRA true-positive rate at low false-positive rates', subtitle }) },
      {
        name: 'lira-memorization',
        spec: memorizationHistogramChart(panels, { title: 'Memorization of the training examples (spurious ones marked)', subtitle }),
      },
    ],
    tables: [liraTable(settings)],
    notes: [],
  };
}
