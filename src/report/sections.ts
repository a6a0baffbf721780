/**
 * From the store's data to the report's sections: which figures and tables each
 * section gets, decided by what the store holds (pure: specs and tables, no rendering).
 *
 * A comparison "by F" (pattern, architecture, optimizer, data set) takes the training
 * settings that agree on every config field but F (and n, seed): each such group with
 * at least two values of F becomes a panel, one line per value of F.
 */
import type { VegaLiteSpec } from './render.ts';
import {
  type MeanBar,
  type MeanPoint,
  type MitigationPoint,
  type NormScoreGroup,
  deletionChart,
  membershipInferenceChart,
  mitigationChart,
  normScatterChart,
  optimizerBarChart,
  scoreVsNChart,
  sensitivityChart,
  trainingCurvesChart,
  weightMapChart,
} from './charts.ts';
import type { ReportData, TrainSetting } from './collect.ts';
import { detectTable, precisionChart, rankChart } from './detect.ts';
import { unlearningChart, unlearningTable } from './unlearning.ts';
import { PATTERN_PRESET_BY_DATASET, SECTION_CATALOG, type SectionInfo, sectionInfo, sweepCommand } from './catalog.ts';
import { pearson } from '../experiments/stats.ts';
import { formatNumber } from './format.ts';
import { liraSection } from './lira.ts';
import { type Regularizer, compareDisplay, contextKey, contextLabels, datasetTitle, describe } from './settings.ts';
import { type Table, deletionTable, membershipInferenceTable, sensitivityTable, settingsTable } from './tables.ts';

export interface ReportChart {
  /** File name stem: charts/<name>.svg and .png. */
  name: string;
  spec: VegaLiteSpec;
}

export interface ReportSection extends SectionInfo {
  charts: ReportChart[];
  tables: Table[];
  /** Extra sentences under the intro (e.g. which presets would add to a partly filled section). */
  notes: string[];
}

export interface MissingSection extends SectionInfo {}

export interface ReportPlan {
  sections: ReportSection[];
  missing: MissingSection[];
}

/** Weight maps drawn at most; a sweep can store one per run. */
export const MAX_WEIGHT_MAPS = 6;

interface Comparison {
  /** The fields the settings share (everything but the compared ones). */
  context: Record<string, string>;
  settings: TrainSetting[];
}

/** Groups of settings equal except for the `compared` fields, keeping groups where `seriesOf` takes at least two values. */
function comparisons(
  train: TrainSetting[],
  compared: string[],
  seriesOf: (s: TrainSetting) => string,
  keep = (_: TrainSetting[]) => true,
  minSeries = 2,
): Comparison[] {
  const groups = new Map<string, TrainSetting[]>();
  for (const s of train) {
    const k = contextKey(s.fields, compared);
    const g = groups.get(k);
    if (g) g.push(s);
    else groups.set(k, [s]);
  }
  return [...groups.values()]
    .filter((g) => new Set(g.map(seriesOf)).size >= minSeries && keep(g))
    .map((settings) => ({
      context: Object.fromEntries(Object.entries(settings[0].fields).filter(([f]) => !compared.includes(f))),
      settings: [...settings].sort((a, b) => compareDisplay(seriesOf(a), seriesOf(b)) || a.n - b.n),
    }));
}

/** Score-vs-n points of several comparisons, one panel per comparison; the shared context as subtitle. */
function comparisonPoints(cs: Comparison[], seriesOf: (s: TrainSetting) => string): { points: MeanPoint[]; subtitle: string } {
  const { labels, common } = contextLabels(cs.map((c) => c.context));
  const points = cs.flatMap((c, i) =>
    c.settings.map((s) => ({
      x: s.n,
      mean: s.score.mean,
      sem: s.score.sem,
      runs: s.summary.scores,
      series: seriesOf(s),
      facet: cs.length > 1 ? labels[i] : undefined,
    })),
  );
  return { points, subtitle: common };
}

function section(id: string, charts: ReportChart[], tables: Table[], notes: string[] = []): ReportSection {
  return { ...sectionInfo(id), charts, tables, notes };
}

function summaryTable(name: string, caption: string, settings: TrainSetting[]): Table {
  return settingsTable(
    settings.map((s) => s.summary),
    { name, caption },
  );
}

/** Score against n "by field": a panel per group of settings that differ only in the field (and n, seed). */
function byFieldSection(
  id: string,
  train: TrainSetting[],
  field: string,
  seriesTitle: string,
  title: string,
  drawn: Set<TrainSetting>,
): ReportSection | undefined {
  const seriesOf = (s: TrainSetting): string => s.fields[field] ?? '–';
  const cs = comparisons(train, [field], seriesOf);
  if (cs.length === 0) return undefined;
  for (const c of cs) for (const t of c.settings) drawn.add(t);
  const { points, subtitle } = comparisonPoints(cs, seriesOf);
  const chart = scoreVsNChart(points, { title, subtitle, seriesTitle });
  return section(
    id,
    [{ name: `score-vs-n-by-${field}`, spec: chart }],
    [
      summaryTable(
        id,
        title,
        cs.flatMap((c) => c.settings),
      ),
    ],
  );
}

/**
 * Settings no comparison drew (a single pattern, or settings that differ only in
 * epochs or subsets): score against n all the same, a panel per setting, so every
 * training setting the store holds is drawn and none is merged with another.
 */
function otherSettingsChart(train: TrainSetting[], drawn: Set<TrainSetting>): { chart: ReportChart; table: Table } | undefined {
  const rest = train.filter((t) => !drawn.has(t));
  if (rest.length === 0) return undefined;
  const seriesOf = (s: TrainSetting): string => s.fields.pattern ?? '–';
  const cs = comparisons(rest, ['pattern'], seriesOf, undefined, 1);
  const { points, subtitle } = comparisonPoints(cs, seriesOf);
  const title = drawn.size > 0 ? 'Spurious score of the other settings' : 'Spurious score by pattern';
  return {
    chart: { name: 'score-vs-n-other', spec: scoreVsNChart(points, { title, subtitle, seriesTitle: 'pattern' }) },
    table: summaryTable(
      'patterns-other',
      title,
      cs.flatMap((c) => c.settings),
    ),
  };
}

/** Presets that would add data sets missing from the pattern comparison. */
function missingPatternPresets(s: ReportSection | undefined, train: TrainSetting[]): string[] {
  const shown = new Set(train.map((t) => t.fields.dataset));
  if (!s) return [];
  return Object.entries(PATTERN_PRESET_BY_DATASET)
    .filter(([name]) => !shown.has(datasetTitle(name)))
    .map(([name, preset]) => `Curves for ${datasetTitle(name)}: run \`${sweepCommand(preset)}\`.`);
}

function normSection(train: TrainSetting[]): ReportSection | undefined {
  const seriesOf = (s: TrainSetting): string => s.fields.pattern;
  const cs = comparisons(train, ['pattern'], seriesOf);
  const charts: ReportChart[] = [];
  for (const c of cs) {
    const groups: NormScoreGroup[] = [];
    for (const n of [...new Set(c.settings.map((s) => s.n))].filter((n) => n > 0).sort((a, b) => a - b)) {
      const at = c.settings.filter((s) => s.n === n && Number.isFinite(s.patternNorm.mean) && Number.isFinite(s.score.mean));
      if (new Set(at.map(seriesOf)).size < 3) continue;
      const { r, pValue } = pearson(
        at.map((s) => s.patternNorm.mean),
        at.map((s) => s.score.mean),
      );
      groups.push({
        label: `n = ${n}`,
        r,
        pValue,
        points: at.map((s) => ({ pattern: seriesOf(s), norm: s.patternNorm.mean, score: s.score.mean, sem: s.score.sem })),
      });
    }
    if (groups.length === 0) continue;
    const title = groups.length === 1 ? `Pattern norm vs spurious score (${groups[0].label})` : 'Pattern norm vs spurious score';
    charts.push({ name: `pattern-norm-${charts.length + 1}`, spec: normScatterChart(groups, { title, subtitle: describe(c.context) }) });
  }
  return charts.length > 0 ? section('pattern-norm', charts, []) : undefined;
}

function optimizerSection(train: TrainSetting[], drawn: Set<TrainSetting>): ReportSection | undefined {
  const seriesOf = (s: TrainSetting): string =>
    s.strengths.gradClip > 0 ? `${s.fields.optimizer}, clip ${formatNumber(s.strengths.gradClip)}` : s.fields.optimizer;
  const cs = comparisons(train, ['optimizer', 'gradClip'], seriesOf, (g) => new Set(g.map((s) => s.fields.optimizer)).size >= 2);
  if (cs.length === 0) return undefined;
  for (const c of cs) for (const t of c.settings) drawn.add(t);
  const { points, subtitle } = comparisonPoints(cs, seriesOf);
  const { labels } = contextLabels(cs.map((c) => c.context));
  const bars: MeanBar[] = cs.flatMap((c, i) =>
    c.settings
      .filter((s) => s.n > 0)
      .map((s) => ({
        group: String(s.n),
        series: seriesOf(s),
        mean: s.score.mean,
        sem: s.score.sem,
        facet: cs.length > 1 ? labels[i] : undefined,
      })),
  );
  const charts: ReportChart[] = [
    { name: 'score-vs-n-by-optimizer', spec: scoreVsNChart(points, { title: 'Spurious score by optimizer', subtitle, seriesTitle: 'optimizer' }) },
  ];
  if (bars.length > 0)
    charts.push({ name: 'optimizer-bars', spec: optimizerBarChart(bars, { title: 'Spurious score by optimizer and clipping', subtitle }) });
  return section('optimizers', charts, [
    summaryTable(
      'optimizers',
      'Optimizers and clipping',
      cs.flatMap((c) => c.settings),
    ),
  ]);
}

const MITIGATIONS: { id: string; regularizer: Regularizer; strengthTitle: string }[] = [
  { id: 'mitigation-weight-decay', regularizer: 'weightDecay', strengthTitle: 'weight decay (l2 strength)' },
  { id: 'mitigation-input-noise', regularizer: 'inputNoise', strengthTitle: 'input noise σ' },
  { id: 'mitigation-clipping', regularizer: 'gradClip', strengthTitle: 'gradient clip threshold' },
];

function mitigationSection(train: TrainSetting[], m: (typeof MITIGATIONS)[number], drawn: Set<TrainSetting>): ReportSection | undefined {
  const strengthOf = (s: TrainSetting): number => s.strengths[m.regularizer];
  const cs = comparisons(
    train,
    [m.regularizer],
    (s) => String(strengthOf(s)),
    // Three strengths make a sweep; two clipping values are the optimizer comparison's.
    (g) => new Set(g.map(strengthOf).filter((v) => v > 0)).size >= 3,
  );
  if (cs.length === 0) return undefined;
  for (const c of cs) for (const t of c.settings) drawn.add(t);
  const charts = cs.map((c, i): ReportChart => {
    const settings = [...c.settings].sort((a, b) => a.n - b.n || strengthOf(a) - strengthOf(b));
    const ordered: MitigationPoint[] = settings.flatMap((s) => [
      { strength: strengthOf(s), metric: 'spurious score' as const, series: `n = ${s.n}`, mean: s.score.mean, sem: s.score.sem },
      { strength: strengthOf(s), metric: 'test accuracy' as const, series: `n = ${s.n}`, mean: s.testAcc.mean, sem: s.testAcc.sem },
    ]);
    return {
      name: cs.length > 1 ? `${m.id}-${i + 1}` : m.id,
      spec: mitigationChart(ordered, {
        title: sectionInfo(m.id).title.replace('Mitigation: ', 'Mitigation by '),
        subtitle: describe(c.context),
        strengthTitle: m.strengthTitle,
      }),
    };
  });
  return section(m.id, charts, [
    summaryTable(
      m.id,
      sectionInfo(m.id).title,
      cs.flatMap((c) => c.settings),
    ),
  ]);
}

function deletionSection(data: ReportData): ReportSection | undefined {
  if (data.forget.length === 0) return undefined;
  const { labels, common } = contextLabels(data.forget.map((f) => f.fields));
  const several = new Set(labels).size > 1;
  const bars: MeanBar[] = data.forget.flatMap((f, i) =>
    f.series.map((s) => ({
      group: String(f.n),
      series: s.name,
      mean: s.score.mean,
      sem: s.score.sem,
      facet: several ? labels[i] : undefined,
    })),
  );
  const chart = deletionChart(bars, { title: 'Spurious score after deletion vs retraining', subtitle: common });
  return section(
    'deletion',
    [{ name: 'deletion', spec: chart }],
    [deletionTable(data.forget, { name: 'deletion', caption: 'Deletion of the spurious examples' })],
  );
}

function unlearningSection(data: ReportData): ReportSection | undefined {
  if (data.unlearning.length === 0) return undefined;
  return section('unlearning', [{ name: 'unlearning', spec: unlearningChart(data.unlearning) as VegaLiteSpec }], [unlearningTable(data.unlearning)]);
}

function membershipSection(data: ReportData): ReportSection | undefined {
  if (data.mia.length === 0) return undefined;
  const { labels, common } = contextLabels(data.mia.map((m) => m.fields));
  const several = new Set(labels).size > 1;
  const points: MeanPoint[] = data.mia.flatMap((m, i) => [
    { x: m.n, series: 'spurious examples', mean: m.attackAccSpurious.mean, sem: m.attackAccSpurious.sem, facet: several ? labels[i] : undefined },
    { x: m.n, series: 'all examples', mean: m.attackAcc.mean, sem: m.attackAcc.sem, facet: several ? labels[i] : undefined },
  ]);
  const chart = membershipInferenceChart(points, { title: 'Membership-inference attack accuracy', subtitle: common });
  return section(
    'membership-inference',
    [{ name: 'membership-inference', spec: chart }],
    [membershipInferenceTable(data.mia, { name: 'membership-inference', caption: 'Membership inference' })],
  );
}

function detectionSection(data: ReportData): ReportSection | undefined {
  if (data.detect.length === 0) return undefined;
  return section(
    'detection',
    [
      { name: 'detection-precision', spec: precisionChart(data.detect) },
      { name: 'detection-ranks', spec: rankChart(data.detect) },
    ],
    [detectTable(data.detect)],
  );
}

function sensitivitySection(data: ReportData): ReportSection | undefined {
  if (data.sensitivity.length === 0) return undefined;
  const contexts = data.sensitivity.map((c) => c.fields);
  const { labels, common } = contextLabels(contexts);
  const several = new Set(labels).size > 1;
  const curves = [...data.sensitivity].sort(
    (a, b) =>
      compareDisplay(a.model, b.model) ||
      (a.trainedWith === 'clean' ? -1 : b.trainedWith === 'clean' ? 1 : compareDisplay(a.trainedWith, b.trainedWith)),
  );
  // Clean and patterned models of one architecture share its colour and differ in dash.
  const mixed = new Set(curves.map((c) => c.trainedWith)).size > 1;
  const points: MeanPoint[] = curves.flatMap((c) =>
    c.curve.map((pt) => ({
      x: pt.p,
      mean: pt.prob.mean,
      sem: pt.prob.sem,
      series: c.model,
      facet: several ? labels[data.sensitivity.indexOf(c)] : undefined,
      ...(mixed ? { dash: c.trainedWith } : {}),
    })),
  );
  const chart = sensitivityChart(points, { title: 'Occlusion curves', subtitle: common });
  return section(
    'sensitivity',
    [{ name: 'sensitivity', spec: chart }],
    [sensitivityTable(curves, { name: 'sensitivity', caption: 'Area under the occlusion curve' })],
  );
}

function weightMapSection(data: ReportData): ReportSection | undefined {
  if (data.weights.length === 0) return undefined;
  const shown = data.weights.slice(0, MAX_WEIGHT_MAPS);
  const charts = shown.map(
    (w, i): ReportChart => ({
      name: `weights-${i + 1}`,
      spec: weightMapChart(
        [
          { title: 'max over hidden units', values: w.map, legendTitle: 'weight' },
          ...(w.diff ? [{ title: 'difference from clean model', values: w.diff, diverging: true, legendTitle: 'difference' }] : []),
        ],
        { title: `First-layer weights: ${w.model}`, subtitle: describe(w.fields) },
      ),
    }),
  );
  const notes = data.weights.length > shown.length ? [`Showing ${shown.length} of ${data.weights.length} stored weight maps.`] : [];
  return section('weight-maps', charts, [], notes);
}

/** Settings per training-curves chart: more lines than this do not read. */
export const MAX_CURVES_PER_CHART = 8;

/**
 * Training curves of every setting with stored histories. The colour is the pattern's
 * (as in every other chart) and the dash tells the other differences (n, epochs, ...);
 * at most MAX_CURVES_PER_CHART settings per chart.
 */
function trainingCurvesSection(train: TrainSetting[]): ReportSection | undefined {
  const withHistory = train.filter((s) => s.history.length > 0);
  if (withHistory.length === 0) return undefined;
  const byPattern = new Set(withHistory.map((s) => s.fields.pattern)).size > 1;
  const rest = (s: TrainSetting): Record<string, string> =>
    Object.fromEntries(Object.entries(s.fields).filter(([f]) => !byPattern || f !== 'pattern'));
  const { labels, common } = contextLabels(withHistory.map(rest));
  const other = withHistory.map((s, i) => [labels[i], `n = ${s.n}`].filter(Boolean).join(', '));
  const charts: ReportChart[] = [];
  for (let start = 0; start < withHistory.length; start += MAX_CURVES_PER_CHART) {
    const chunk = withHistory.slice(start, start + MAX_CURVES_PER_CHART);
    const points: MeanPoint[] = chunk.flatMap((s, j) => {
      const line = byPattern ? { series: s.fields.pattern, dash: other[start + j] } : { series: other[start + j] };
      return s.history.flatMap((e) => [
        { x: e.epoch, mean: e.loss.mean, sem: e.loss.sem, ...line, facet: 'training loss' },
        { x: e.epoch, mean: e.trainAcc.mean, sem: e.trainAcc.sem, ...line, facet: 'training accuracy' },
        { x: e.epoch, mean: e.testAcc.mean, sem: e.testAcc.sem, ...line, facet: 'test accuracy' },
      ]);
    });
    const part =
      withHistory.length > MAX_CURVES_PER_CHART
        ? ` (${start / MAX_CURVES_PER_CHART + 1} of ${Math.ceil(withHistory.length / MAX_CURVES_PER_CHART)})`
        : '';
    charts.push({
      name: `training-curves-${charts.length + 1}`,
      spec: trainingCurvesChart(points, { title: `Training curves${part}`, subtitle: common || undefined }, byPattern),
    });
  }
  return section('training-curves', charts, []);
}

/** Decides the report's sections from the data; sections without data go to `missing`, in catalog order. */
export function planReport(data: ReportData): ReportPlan {
  const train = data.train;
  const drawn = new Set<TrainSetting>();
  const patterns = byFieldSection('patterns', train, 'pattern', 'pattern', 'Spurious score by pattern', drawn);
  const later: (ReportSection | undefined)[] = [
    byFieldSection('datasets', train, 'dataset', 'data set', 'Spurious score by data set', drawn),
    byFieldSection('architectures', train, 'model', 'architecture', 'Spurious score by architecture', drawn),
    sensitivitySection(data),
    weightMapSection(data),
    optimizerSection(train, drawn),
    deletionSection(data),
    unlearningSection(data),
    membershipSection(data),
    detectionSection(data),
    liraSection(data.lira),
    ...MITIGATIONS.map((m) => mitigationSection(train, m, drawn)),
    trainingCurvesSection(train),
  ];
  // Whatever no comparison drew goes into the pattern section, which exists then.
  const other = otherSettingsChart(train, drawn);
  const patternSection = other
    ? patterns
      ? { ...patterns, charts: [...patterns.charts, other.chart], tables: [...patterns.tables, other.table] }
      : section('patterns', [other.chart], [other.table])
    : patterns;
  if (patternSection) patternSection.notes.push(...missingPatternPresets(patternSection, train));
  const built: (ReportSection | undefined)[] = [
    patternSection,
    normSection(train),
    ...later,
    train.length > 0 ? section('settings', [], [summaryTable('settings', 'All training settings', train)]) : undefined,
  ];
  const sections = built.filter((s): s is ReportSection => s !== undefined);
  const filled = new Set(sections.map((s) => s.id));
  return { sections, missing: SECTION_CATALOG.filter((s) => !filled.has(s.id)) };
}
