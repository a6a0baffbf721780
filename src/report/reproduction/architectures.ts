/**
 * Finding 3, architectures: a model that reacts more to its input (a smaller area under
 * the occlusion curve of its clean, n = 0, model) picks the pattern up more (a larger
 * spurious score). Per seed, Spearman's rho over the architectures between the clean
 * model's occlusion area and the score at n; then the mean rho over seeds and a
 * one-sided one-sample t-test that it is below 0. The verdict rests on that measure, the
 * protocol's. Beside it, the same test with a second measure of sensitivity the
 * sensitivity runs record, the clean model's mean norm of the loss's input gradient
 * (larger: more sensitive, so rho > 0 is the paper's direction; it also grows with the
 * loss, so it partly measures fit); the two measures can rank the architectures
 * differently, and the reason says what the second one finds.
 */
import { oneSampleTTest, spearman } from '../../experiments/stats.ts';
import type { RunRecord } from '../../store/results.ts';
import { compareDisplay, compareFields, contextLabels } from '../settings.ts';
import type { Table } from '../tables.ts';
import {
  ALPHA,
  type Assessment,
  type FindingRuns,
  formatMeanSem,
  formatP,
  groupRuns,
  listOf,
  meanSem,
  numberAt,
  runsOfKind,
  trainingContext,
  verdictOf,
  textColumns,
} from './types.ts';

interface ArchOutcome {
  context: Record<string, string>;
  n: number;
  models: string[];
  perSeed: number[];
  p: number;
}

/** A clean model's sensitivity measure, and the sign of rho the paper's claim predicts. */
interface Measure {
  key: 'area' | 'inputGradNorm';
  name: string;
  /** 'less': more sensitive is a smaller value, so the claim is rho < 0. */
  alternative: 'less' | 'greater';
}

const OCCLUSION: Measure = { key: 'area', name: 'occlusion area', alternative: 'less' };
const GRADIENT: Measure = { key: 'inputGradNorm', name: "loss's input-gradient norm", alternative: 'greater' };

const contextOf = (r: RunRecord) => trainingContext(r.config, ['model', 'seed', 'n']);
const at = (r: RunRecord) => JSON.stringify([contextOf(r), String(r.config.model), r.config.seed]);

/** Per (model, seed) of the clean (n = 0) sensitivity runs: the measure's value. */
function cleanValues(runs: RunRecord[], measure: Measure): Map<string, number> {
  const values = new Map<string, number>();
  for (const r of runsOfKind(runs, 'sensitivity')) if (numberAt(r.config, 'n') === 0) values.set(at(r), numberAt(r.result, measure.key));
  return values;
}

export function architectureOutcomes(runs: RunRecord[], measure: Measure = OCCLUSION): { outcomes: ArchOutcome[]; values: Map<string, number> } {
  const values = cleanValues(runs, measure);
  const trained = runsOfKind(runs, 'train').filter((r) => numberAt(r.config, 'n') > 0);
  const settings = groupRuns(trained, (r) => JSON.stringify([contextOf(r), r.config.n]));
  const outcomes: ArchOutcome[] = [];
  for (const group of settings.values()) {
    const perSeed: number[] = [];
    for (const rs of groupRuns(group, (r) => String(r.config.seed)).values()) {
      const pairs = rs
        .map((r) => ({ value: values.get(at(r)) ?? NaN, score: numberAt(r.result, 'score') }))
        .filter((p) => Number.isFinite(p.value + p.score));
      if (pairs.length < 3) continue;
      const rho = spearman(
        pairs.map((p) => p.value),
        pairs.map((p) => p.score),
      ).r;
      if (Number.isFinite(rho)) perSeed.push(rho);
    }
    outcomes.push({
      context: contextOf(group[0]),
      n: numberAt(group[0].config, 'n'),
      models: [...new Set(group.map((r) => String(r.config.model)))],
      perSeed,
      p: oneSampleTTest(perSeed, 0, measure.alternative).pValue,
    });
  }
  outcomes.sort((a, b) => compareFields(a.context, b.context) || a.n - b.n);
  return { outcomes, values };
}

/** Per architecture: the clean model's occlusion area and input-gradient norm, and the score at each (pattern, n), mean ± SEM over seeds. */
function modelTable(runs: RunRecord[], areas: Map<string, number>, gradients: Map<string, number>): Table {
  const trained = runsOfKind(runs, 'train');
  const models = [...new Set(trained.map((r) => String(r.config.model)))].sort(compareDisplay);
  const columnsOf = [
    ...groupRuns(
      trained.filter((r) => numberAt(r.config, 'n') > 0),
      (r) => `${r.config.pattern}|${r.config.n}`,
    ).keys(),
  ].sort();
  const clean = trained.filter((r) => numberAt(r.config, 'n') === 0);
  return {
    name: 'reproduction-architectures',
    caption:
      "Occlusion area and the loss's input-gradient norm of the clean (n = 0) model, and spurious score per architecture, mean ± SEM over seeds (more input-sensitive: a smaller area, a larger gradient norm)",
    columns: [
      ...textColumns('architecture', 'occlusion area (clean)', 'input-gradient norm (clean)'),
      ...columnsOf.map((c) => ({ header: `score ${c.replace('|', ', n = ')}`, format: 'text' as const })),
    ],
    rows: models.map((m) => [
      m,
      formatMeanSem(meanSem(clean.filter((r) => String(r.config.model) === m).map((r) => areas.get(at(r)) ?? NaN))),
      formatMeanSem(meanSem(clean.filter((r) => String(r.config.model) === m).map((r) => gradients.get(at(r)) ?? NaN))),
      ...columnsOf.map((c) =>
        formatMeanSem(
          meanSem(
            trained.filter((r) => String(r.config.model) === m && `${r.config.pattern}|${r.config.n}` === c).map((r) => numberAt(r.result, 'score')),
          ),
        ),
      ),
    ]),
  };
}

function correlationTable(outcomes: ArchOutcome[], measure: Measure, name: string): Table {
  const { labels, common } = contextLabels(outcomes.map((o) => o.context));
  const sign = measure.alternative === 'less' ? '<' : '>';
  return {
    name,
    caption: `Spearman's rho over the architectures between the clean model's ${measure.name} and the spurious score, per seed (mean ± SEM), one-sided t-test over seeds that rho ${sign} 0 (${common})`,
    columns: [
      { header: 'setting', format: 'text' },
      { header: 'architectures', format: 'int' },
      { header: 'seeds', format: 'int' },
      ...textColumns('rho per seed', `p (rho ${sign} 0, over seeds)`),
    ],
    rows: outcomes.map((o, i) => [
      `${labels[i] || 'all'}, n = ${o.n}`,
      o.models.length,
      o.perSeed.length,
      formatMeanSem(meanSem(o.perSeed)),
      formatP(o.p, 'no spread'),
    ]),
  };
}

export function assessArchitectures(f: FindingRuns): Assessment {
  const { outcomes, values: areas } = architectureOutcomes(f.done, OCCLUSION);
  const gradient = architectureOutcomes(f.done, GRADIENT);
  const { labels } = contextLabels(outcomes.map((o) => o.context));
  const label = (o: ArchOutcome) => `${labels[outcomes.indexOf(o)] || 'all'}, n = ${o.n}`;
  const tested = outcomes.filter((o) => o.perSeed.length >= 2);
  const hits = tested.filter((o) => o.p < ALPHA);
  const misses = tested.filter((o) => !hits.includes(o)).map((o) => `${label(o)} (rho ${meanSem(o.perSeed).mean.toFixed(2)})`);
  const gradientTested = gradient.outcomes.filter((o) => o.perSeed.length >= 2);
  const gradientHits = gradientTested.filter((o) => o.p < ALPHA);
  const notes = areas.size === 0 ? ['No sensitivity runs of clean models are in the store: run `spurlab reproduce --only architectures`.'] : [];
  return {
    verdict: verdictOf(hits.length, tested.length),
    reason:
      `${hits.length} of ${tested.length} (pattern, n) settings have a negative rank correlation between occlusion area and score over seeds (p < ${ALPHA})` +
      (misses.length > 0 ? `; not: ${listOf(misses)}` : '') +
      (gradientTested.length > 0
        ? `. By the loss's input-gradient norm instead (a second measure of sensitivity, not the verdict's; it also grows with the loss, so it partly measures fit), ${gradientHits.length} of ${gradientTested.length} settings show a positive rank correlation with the score (p < ${ALPHA}).`
        : '.'),
    tables: [
      modelTable(f.done, areas, gradient.values),
      correlationTable(outcomes, OCCLUSION, 'reproduction-architectures-correlation'),
      correlationTable(gradient.outcomes, GRADIENT, 'reproduction-architectures-gradient-correlation'),
    ],
    details: [],
    notes,
  };
}
