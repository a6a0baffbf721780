/**
 * The report's figures as Vega-Lite specs, one builder per figure of the paper. Each
 * takes plain typed rows (means and SEMs over seeds) and returns a spec for render.ts.
 */
export { CHART_CONFIG, type ChartTitle, type MeanBar, type MeanPoint, SERIES_COLORS, colorScale, seriesColor } from './charts/common.ts';
export {
  type CurveOptions,
  type MitigationPoint,
  type ReferenceLine,
  meanCurveChart,
  membershipInferenceChart,
  mitigationChart,
  scaleTitle,
  scoreVsNChart,
  sensitivityChart,
  trainingCurvesChart,
} from './charts/curves.ts';
export { type BarOptions, DELETION_SERIES_ORDER, deletionChart, groupedBarChart, optimizerBarChart } from './charts/bars.ts';
export { type NormScoreGroup, type NormScorePoint, normScatterChart } from './charts/scatter.ts';
export { type HeatMapPanel, weightMapChart } from './charts/heatmap.ts';
