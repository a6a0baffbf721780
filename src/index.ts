// spurlab's library API: everything the CLI does, as functions a script can call.
// `import { makeTrainConfig, train, spuriousScore } from 'spurlab'` in Node or TypeScript;
// the README's "Library" section walks through one experiment.

// --- Tensor engine: tensors, ops, autograd, backends ---------------------------------
export {
  Tensor,
  tensor,
  fromArray,
  zeros,
  ones,
  full,
  scalar,
  randn,
  uniform,
  type NestedArray,
  type RandomSource,
  type DType,
  type FloatArray,
} from './tensor/tensor.ts';
export * as ops from './ops/index.ts';
export { grad, backward, noGrad, withGradMode, isGradEnabled } from './autograd/tape.ts';
export { hessianVectorProduct } from './autograd/hvp.ts';
export { gradCheck, hvpCheck } from './autograd/gradcheck.ts';
export { activeBackend, setBackend, withBackend, kernels } from './backend/registry.ts';
export type { Backend } from './backend/backend.ts';
export type { Kernels } from './backend/kernels.ts';

// --- Data sets and patterns -----------------------------------------------------------
/** Base data sets (MNIST ships with the package; others read files from `dataDir`). */
export { DATASETS, DATASET_NAMES, loadDataset, clearDatasetCache, type DatasetName, type DatasetInfo, type LoadOptions } from './data/datasets.ts';
export { imageView, cloneDataset, classCounts, classIndices, type Dataset, type TrainTest, type Split } from './data/dataset.ts';
/**
 * Patterns: built-in names (S1 S2 S3 R1 R2 R3 Co), `noise:l2=<norm>`, `noise:scale=<s>`,
 * a .json/.png pattern file, or custom inline JSON such as
 * `'[{"row":0,"col":0,"height":3,"width":3,"value":1}]'`. Any of these strings is a
 * data set's `pattern`.
 */
export {
  BUILTIN_PATTERNS,
  makePattern,
  applyPattern,
  applyPatternToIndices,
  patternNorm,
  noiseImage,
  type Pattern,
  type PatternOptions,
  type ImageShape,
} from './data/patterns.ts';
export { loadCustomPattern, parseInlineCustomPattern, type PixelAssignment } from './data/customPatterns.ts';
export { customPattern, type Patch, type Mask } from './data/patternSpec.ts';
/** Spurious data sets: a base data set with a pattern on `n` training images of one class. */
export {
  makeSpuriousDataset,
  parseSpuriousName,
  spuriousName,
  resolveSpuriousSpec,
  chooseSpuriousIndices,
  type SpuriousDataset,
  type SpuriousSpec,
  type SpuriousOptions,
  type SpuriousLoadOptions,
} from './data/spurious.ts';

// --- Models ---------------------------------------------------------------------------
export { MODELS, findModel, createModel, type ModelSpec, type InputInfo } from './nn/models/index.ts';
export { Module, Sequential } from './nn/module.ts';

// --- Training and scoring -------------------------------------------------------------
/** makeTrainConfig fills the defaults (TRAIN_DEFAULTS: Adam, lr 0.01, 70 epochs, ...) and validates. */
export { makeTrainConfig, validateTrainConfig, spuriousSpecOf, TRAIN_DEFAULTS, type TrainConfig, type TrainConfigInput } from './train/config.ts';
/**
 * train() runs one training run; `events.onStep` / `events.onEpoch` report progress.
 * Its result holds the model and `testIndices`, the test images the run evaluates on:
 * pass them to spuriousScore so a `testSubset` run is scored on its own images.
 */
export {
  train,
  loadRun,
  buildModel,
  runIndices,
  subsetIndices,
  type TrainOptions,
  type TrainResult,
  type TrainEvents,
  type EpochRecord,
} from './train/trainer.ts';
export { predict, accuracy } from './train/evaluate.ts';
export type { Layout } from './train/batches.ts';
export { spuriousScore, scoreRun, type SpuriousScore, type ScoreOptions, type ScorableRun, type Population } from './experiments/score.ts';
/** runExperiment: train, then both scores, test accuracy and the pattern norm: one sweep run. */
export { runExperiment, type RunResult, type RunOutput, type RunOptions } from './experiments/runner.ts';
export { saveCheckpoint, loadCheckpoint, loadModelState, metadataJson, type Checkpoint } from './store/checkpoint.ts';

// --- Results store, summaries, sweeps -------------------------------------------------
export {
  ResultsStore,
  DEFAULT_RESULTS_PATH,
  GROUP_COLUMNS,
  type RunRecord,
  type RunFilter,
  type RunStatus,
  type ResultsStoreOptions,
} from './store/results.ts';
export { runKey, canonicalJson } from './store/runKey.ts';
/** Per-setting summaries of a store: mean score, SEM, test accuracy, and Welch's test against n = 0. */
export { groupedSummary, summarizeWithBaseline, type GroupSummary, type BaselineSummary } from './experiments/summaries.ts';
/** Sweeps: grids of runs of any kind (train, forget, mia, lira, detect, ...), planned, estimated and run into a store. */
export {
  loadSweepSpec,
  validateSweepSpec,
  planSweep,
  expandSweep,
  countSweep,
  MAX_SWEEP_RUNS,
  type SweepSpec,
  type Grid,
  type GridValue,
  type ExpandOptions,
} from './experiments/grids/spec.ts';
export { PRESETS } from './experiments/grids/presets.ts';
export {
  KINDS,
  KIND_NAMES,
  findKind,
  kindKey,
  planRun,
  trainKind,
  miaKind,
  sensitivityKind,
  weightsKind,
  liraKind,
  liraShadowKind,
  detectKind,
  type PlannedRun,
  type RunKind,
  type AnyRunKind,
  type RunContext,
  type RunEvents,
} from './experiments/kinds/index.ts';
export {
  runPlannedHere,
  runSweepHere,
  runInStore,
  estimateSweep,
  configKey,
  type SweepSummary,
  type SweepProgress,
  type SweepEstimate,
} from './experiments/sweep.ts';
export {
  mean,
  sampleStd,
  standardError,
  welchTTest,
  pearson,
  spearman,
  type TTestResult,
  type CorrelationResult,
  type Alternative,
} from './experiments/stats.ts';

// --- Deletion, influence, membership inference, sensitivity ---------------------------
export { forgetRun, FORGET_METHODS, FORGET_DEFAULTS, type ForgetMethod, type ForgetOptions, type ForgetResult } from './forget/forget.ts';
export { forgetConfig, forgetKind, type ForgetConfig } from './experiments/kinds/forget.ts';
export { testInfluence, TEST_INFLUENCE_DEFAULTS, type TestInfluence, type TestInfluenceOptions } from './forget/testInfluence.ts';
export {
  runMembershipInference,
  membershipConfig,
  type MembershipOptions,
  type MembershipResult,
  type MembershipSummary,
  type MembershipEvents,
} from './privacy/membershipInference.ts';
/** LiRA (likelihood-ratio attack over shadow models): runLira in one go, or planLira, train the shadows anywhere, then analyzeLira. */
export {
  runLira,
  planLira,
  analyzeLira,
  type LiraOptions,
  type LiraPlan,
  type LiraResult,
  type LiraRun,
  type LiraEvents,
} from './privacy/liraRun.ts';
export { liraScores, keepMatrix, type LiraVariant, type LiraScoreOptions, type ShadowObservations } from './privacy/lira.ts';
export type { LiraQueries, ShadowTrainer, ShadowRun, ShadowOutput } from './privacy/liraShadows.ts';
export type { LiraMemorization, LiraExamples, HeadlineMetrics } from './privacy/liraRun.ts';
export { groupMetrics, rocSummary, type GroupMetrics, type RocSummary } from './privacy/liraMetrics.ts';
export { exportFormatOf, formatExamples, type ExportFormat } from './privacy/liraExport.ts';
/** The lira and lira-shadow run kinds: each shadow model is a run of its own, the attack a run over them. */
export { liraFromShadows, shadowConfigOf, type LiraConfig, type LiraShadowConfig, type LiraShadowResult } from './experiments/kinds/lira.ts';
/** Feldman-Zhang memorization of every pool example, from the shadow models' correctness and membership. */
export {
  memorizationScores,
  memorizationRanks,
  memorizationHistogram,
  type MemorizationEstimate,
} from './privacy/memorization.ts';

// --- Detection: which training examples are the spurious ones? ------------------------
/**
 * detectRun scores every training example of a run directory by one method and reports
 * where the spurious ones rank; detectScores is the scoring alone, on a loaded model.
 */
export { detectRun, readMemorization, type DetectResult, type DetectRunOptions, type RetrainOutcome } from './detect/detect.ts';
export {
  detectScores,
  checkDetectMethod,
  DETECT_METHODS,
  DETECT_DEFAULTS,
  type DetectMethod,
  type DetectInput,
  type DetectOptions,
  type MethodScores,
  type ModelAt,
} from './detect/methods.ts';
export { detectionMetrics, auroc, topPositions, type DetectionMetrics } from './detect/metrics.ts';
export { detectOptionsOf, type DetectConfig, type DetectFields } from './experiments/kinds/detect.ts';
export {
  modelSensitivity,
  occlusionCurve,
  meanInputGradientNorm,
  SENSITIVITY_DEFAULTS,
  type SensitivityOptions,
  type SensitivityResult,
} from './experiments/sensitivity.ts';

// --- The report -----------------------------------------------------------------------
import type { ResultsStore } from './store/results.ts';
import type { BuildReportOptions, BuildReportResult } from './report/build.ts';
export type { BuildReportOptions, BuildReportResult } from './report/build.ts';
/**
 * Writes the HTML report (charts, tables) of a results store into `outDir`. Loaded on
 * first call: the chart renderers are large and most scripts never draw.
 */
export async function buildReport(store: ResultsStore, outDir: string, opts: BuildReportOptions = {}): Promise<BuildReportResult> {
  const { buildReport: build } = await import('./report/build.ts');
  return build(store, outDir, opts);
}

export { UserError } from './util/errors.ts';
export { version } from './version.ts';
