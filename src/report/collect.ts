/**
 * Reads what a results store holds into typed, seed-aggregated rows for the report.
 *
 * Each kind of run declares its config and result in src/experiments/kinds/ (train:
 * RunResult, forget: ForgetResult, mia: MembershipResult, sensitivity:
 * SensitivityRecord, weights: WeightsRecord); `reportSections` there names the fields of
 * ReportData each kind feeds. The readers below are tolerant on purpose: a run whose
 * result lacks a field (an older spurlab, a hand-made store) is skipped, never fatal;
 * sensitivity curves may also be stored as [{ p, prob }], and forget runs' before and
 * retrain describe the same models for every method of a seed. Groups that never mix
 * settings, for any kind, come from experiments/resultGroups.ts (resultGroups).
 */
import type { ResultsStore, RunRecord } from '../store/results.ts';
import { isUnlearnMethod } from '../forget/unlearning/methods.ts';
import { unlearningRows, type UnlearningRow } from './unlearning.ts';
import { type BaselineSummary, summarizeWithBaseline } from '../experiments/summaries.ts';
import { mean, standardError } from '../experiments/stats.ts';
import { collectDetect, type DetectSetting } from './detect.ts';
import { collectLira, type LiraSetting } from './lira.ts';
import { REGULARIZERS, type Regularizer, compareFields, optimizerName, orderedFields, settingFields, strengthOf } from './settings.ts';

export interface MeanSem {
  mean: number;
  sem: number;
  /** Number of finite values averaged. */
  count: number;
}

/** Mean and SEM (ddof 1) over the finite values; NaN when there are none (SEM: fewer than two). */
export function meanSem(values: unknown[]): MeanSem {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return { mean: mean(xs), sem: standardError(xs), count: xs.length };
}

export interface TrainSetting {
  /** Display values of every config field except seed and n. */
  fields: Record<string, string>;
  n: number;
  strengths: Record<Regularizer, number>;
  optimizerName: string;
  runs: number;
  score: MeanSem;
  testAcc: MeanSem;
  patternNorm: MeanSem;
  /** Welch's one-sided p-value against the n = 0 baseline; NaN for baselines and settings without one. */
  pValue: number;
  summary: BaselineSummary;
  /** Per epoch over the runs that stored a history: loss, train and test accuracy. */
  history: EpochSummary[];
}

export interface EpochSummary {
  epoch: number;
  loss: MeanSem;
  trainAcc: MeanSem;
  testAcc: MeanSem;
}

/** The runs' per-epoch records (result.history), averaged epoch by epoch. */
function epochSummaries(results: Record<string, unknown>[]): EpochSummary[] {
  const byEpoch = new Map<number, Record<string, unknown>[]>();
  for (const r of results) {
    if (!Array.isArray(r.history)) continue;
    for (const e of r.history.map(record)) {
      if (typeof e?.epoch !== 'number') continue;
      byEpoch.set(e.epoch, [...(byEpoch.get(e.epoch) ?? []), e]);
    }
  }
  return [...byEpoch.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, es]) => ({
      epoch,
      loss: meanSem(es.map((e) => e.loss)),
      trainAcc: meanSem(es.map((e) => e.trainAcc)),
      testAcc: meanSem(es.map((e) => e.testAcc)),
    }));
}

export interface ForgetSeries {
  /** 'before', a deletion method, or 'retrain'. */
  name: string;
  score: MeanSem;
  testAcc: MeanSem;
}

export interface ForgetSetting {
  /** Config display values except seed, method and n. */
  fields: Record<string, string>;
  n: number;
  seeds: number;
  series: ForgetSeries[];
}

export interface MiaSetting {
  fields: Record<string, string>;
  n: number;
  attackAcc: MeanSem;
  attackAccSpurious: MeanSem;
  auc: MeanSem;
  tprAt1Fpr: MeanSem;
  targetTestAcc: MeanSem;
}

export interface SensitivityCurve {
  /** Config display values except seed and model. */
  fields: Record<string, string>;
  model: string;
  /** "clean" (n = 0) or the pattern and n the model was trained with. */
  trainedWith: string;
  runs: number;
  curve: { p: number; prob: MeanSem }[];
  area: MeanSem;
}

export interface WeightMap {
  fields: Record<string, string>;
  model: string;
  map: number[];
  diff?: number[];
}

export interface ReportData {
  train: TrainSetting[];
  /** The rows `train` was made from, for tables in the same shape as `spurlab results`. */
  trainSummaries: BaselineSummary[];
  trainGroupBy: string[];
  forget: ForgetSetting[];
  /** Forget runs of the unlearning methods (report/unlearning.ts); the deletion section shows the others. */
  unlearning: UnlearningRow[];
  mia: MiaSetting[];
  sensitivity: SensitivityCurve[];
  weights: WeightMap[];
  detect: DetectSetting[];
  lira: LiraSetting[];
  /** Done runs per kind, including kinds the report does not draw. */
  runsByKind: Record<string, number>;
}

/** Config fields that tell the runs of one setting apart. */
const RUN_SEEDS = ['seed', 'modelSeed'];

/** summarizeWithBaseline only groups by plain (dotted) identifiers. */
const GROUPABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function numberArray(v: unknown): number[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null) ? v.map((x) => (x === null ? NaN : (x as number))) : undefined;
}

/** Groups runs by a key, keeping the order of first appearance. */
function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

function collectTrain(
  store: ResultsStore,
  runs: RunRecord[],
  onlyKeys?: ReadonlySet<string>,
): Pick<ReportData, 'train' | 'trainSummaries' | 'trainGroupBy'> {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.config)));
  if (!keys.has('n')) return { train: [], trainSummaries: [], trainGroupBy: [] };
  // n last, so the store's ORDER BY lists each setting's n values together.
  // The data seed and the model seed both index runs of one setting: a setting is everything else.
  const trainGroupBy = [...orderedFields([...keys].filter((k) => !RUN_SEEDS.includes(k) && k !== 'n' && GROUPABLE.test(k))), 'n'];
  const trainSummaries = summarizeWithBaseline(store, trainGroupBy, { kind: 'train' }, onlyKeys ? { onlyKeys } : {});
  const train = trainSummaries
    .filter((s) => typeof s.group.n === 'number')
    .map((s): TrainSetting => {
      const results = s.keys.map((k) => store.get(k)?.result ?? {});
      const fields = settingFields(s.group, ['n']);
      return {
        fields,
        n: s.group.n as number,
        strengths: Object.fromEntries(REGULARIZERS.map((r) => [r, strengthOf(s.group[r])])) as Record<Regularizer, number>,
        optimizerName: optimizerName(s.group.optimizer),
        runs: s.runs,
        score: meanSem(results.map((r) => r.score)),
        testAcc: meanSem(results.map((r) => r.testAcc)),
        patternNorm: meanSem(results.map((r) => r.patternNorm)),
        pValue: s.pValue,
        summary: s,
        history: epochSummaries(results),
      };
    })
    .sort((a, b) => compareFields(a.fields, b.fields) || a.n - b.n);
  return { train, trainSummaries, trainGroupBy };
}

function collectForget(runs: RunRecord[]): ForgetSetting[] {
  const usable = runs.filter((r) => typeof r.config.n === 'number' && record(r.result?.before) && record(r.result?.after));
  const settings = groupBy(usable, (r) => JSON.stringify([settingFields(r.config, ['seed', 'method', 'n']), r.config.n]));
  return settings
    .map((group) => {
      const n = group[0].config.n as number;
      const methods = [...new Set(group.map((r) => String(r.config.method ?? 'deletion')))];
      // Before and retrain describe the same models for every method of a seed: one value per seed.
      const perSeed = (pick: (r: RunRecord) => Record<string, unknown> | undefined): Record<string, unknown>[] =>
        groupBy(group, (r) => String(r.config.seed))
          .map((rs) => rs.map(pick).find((v) => v !== undefined))
          .filter((v) => v !== undefined);
      const seriesOf = (name: string, values: Record<string, unknown>[]): ForgetSeries => ({
        name,
        score: meanSem(values.map((v) => v.score)),
        testAcc: meanSem(values.map((v) => v.testAcc)),
      });
      const series = [
        seriesOf(
          'before',
          perSeed((r) => record(r.result?.before)),
        ),
      ];
      for (const m of methods) {
        series.push(
          seriesOf(
            m,
            group.filter((r) => String(r.config.method ?? 'deletion') === m).map((r) => record(r.result?.after)!),
          ),
        );
      }
      const retrain = perSeed((r) => record(r.result?.retrain));
      if (retrain.length > 0) series.push(seriesOf('retrain', retrain));
      return { fields: settingFields(group[0].config, ['seed', 'method', 'n']), n, seeds: new Set(group.map((r) => r.config.seed)).size, series };
    })
    .sort((a, b) => compareFields(a.fields, b.fields) || a.n - b.n);
}

function collectMia(runs: RunRecord[]): MiaSetting[] {
  const nOf = (r: RunRecord): unknown => r.result?.n ?? r.config.n;
  const usable = runs.filter((r) => typeof nOf(r) === 'number');
  const settings = groupBy(usable, (r) => JSON.stringify([settingFields(r.config, ['seed', 'n']), nOf(r)]));
  return settings
    .map((group) => {
      const pick = (name: string): MeanSem => meanSem(group.map((r) => r.result?.[name]));
      return {
        fields: settingFields(group[0].config, ['seed', 'n']),
        n: nOf(group[0]) as number,
        attackAcc: pick('attackAcc'),
        attackAccSpurious: pick('attackAccSpurious'),
        auc: pick('auc'),
        tprAt1Fpr: pick('tprAt1Fpr'),
        targetTestAcc: pick('targetTestAcc'),
      };
    })
    .sort((a, b) => compareFields(a.fields, b.fields) || a.n - b.n);
}

/** A stored occlusion curve as (p, prob) pairs: parallel `ps`/`curve` arrays, or a list of {p, prob}. */
function curvePoints(result: Record<string, unknown>): { p: number; prob: number }[] {
  const ps = numberArray(result.ps);
  const probs = numberArray(result.curve);
  if (probs) {
    // Without ps, the points are evenly spaced over [0, 1].
    return probs.map((prob, i) => ({ p: ps && ps.length === probs.length ? ps[i] : i / Math.max(1, probs.length - 1), prob }));
  }
  if (!Array.isArray(result.curve)) return [];
  return result.curve.map(record).filter((pt): pt is { p: number; prob: number } => typeof pt?.p === 'number' && typeof pt.prob === 'number');
}

/** "clean" for a model trained without the pattern (n = 0), else "R3, n = 3": occlusion curves of the two are kept apart. */
function trainedWith(r: RunRecord): string {
  const n = r.config.n;
  if (typeof n !== 'number') return 'model';
  return n === 0 ? 'clean' : `${String(r.config.pattern ?? 'pattern')}, n = ${n}`;
}

function collectSensitivity(runs: RunRecord[]): SensitivityCurve[] {
  const modelOf = (r: RunRecord): string => String(r.result?.model ?? r.config.model ?? 'model');
  const datasetOf = (r: RunRecord): Record<string, string> => settingFields({ dataset: r.result?.dataset ?? r.config.dataset ?? null }, []);
  const usable = runs.filter((r) => curvePoints(r.result!).length > 0);
  const settings = groupBy(usable, (r) => JSON.stringify([datasetOf(r), modelOf(r), trainedWith(r)]));
  return settings.map((group) => {
    const byP = new Map<number, number[]>();
    for (const r of group) {
      for (const pt of curvePoints(r.result!)) {
        if (!Number.isFinite(pt.prob)) continue;
        const list = byP.get(pt.p);
        if (list) list.push(pt.prob);
        else byP.set(pt.p, [pt.prob]);
      }
    }
    return {
      fields: datasetOf(group[0]),
      model: modelOf(group[0]),
      trainedWith: trainedWith(group[0]),
      runs: group.length,
      curve: [...byP.entries()].sort((a, b) => a[0] - b[0]).map(([p, probs]) => ({ p, prob: meanSem(probs) })),
      area: meanSem(group.map((r) => r.result?.area)),
    };
  });
}

function collectWeights(runs: RunRecord[]): WeightMap[] {
  const maps: WeightMap[] = [];
  for (const r of runs) {
    const map = numberArray(r.result?.map);
    if (!map) continue;
    const diff = numberArray(r.result?.diff);
    maps.push({
      fields: settingFields(r.config, ['model']),
      model: String(r.result?.model ?? r.config.model ?? 'model'),
      map,
      ...(diff && diff.length === map.length ? { diff } : {}),
    });
  }
  return maps;
}

export interface CollectOptions {
  /** Only these runs (e.g. one finding's of a reproduction), not everything the store holds. */
  onlyKeys?: ReadonlySet<string>;
  /** The store's done runs when the caller has read them already (a reproduction reads them once for its six findings). */
  done?: readonly RunRecord[];
}

/** Everything the report draws, from the store's done runs. */
export function collectReportData(store: ResultsStore, opts: CollectOptions = {}): ReportData {
  const { onlyKeys } = opts;
  const done = (opts.done ?? store.list({ status: 'done' })).filter((r) => !onlyKeys || onlyKeys.has(r.key));
  const runsByKind: Record<string, number> = {};
  for (const r of done) runsByKind[r.kind] = (runsByKind[r.kind] ?? 0) + 1;
  const ofKind = (kind: string): RunRecord[] => done.filter((r) => r.kind === kind && r.result !== null);
  return {
    ...collectTrain(store, ofKind('train'), onlyKeys),
    forget: collectForget(ofKind('forget').filter((r) => !isUnlearnMethod(String(r.config.method)))),
    unlearning: unlearningRows(ofKind('forget')),
    mia: collectMia(ofKind('mia')),
    sensitivity: collectSensitivity(ofKind('sensitivity')),
    weights: collectWeights(ofKind('weights')),
    detect: collectDetect(ofKind('detect')),
    lira: collectLira(ofKind('lira')),
    runsByKind,
  };
}
