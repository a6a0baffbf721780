// `spurlab forget`: delete a trained run's spurious examples by incremental retraining,
// first-order group influence (LiSSA) or retraining from scratch, and measure the
// spurious score and test accuracy before and after; or by one of today's unlearning
// methods (forget/unlearning/methods.ts), compared with the retrained model.
import { existsSync, statSync } from 'node:fs';
import { flag, numberOption, stringOption, type Command, type ParsedArgs, DATA_DIR_OPTION } from '../command.ts';
import { progressEvents } from './train.ts';
import {
  checkMethod,
  FORGET_METHODS,
  FORGET_DEFAULTS,
  forgetRun,
  referenceDepth,
  referenceScale,
  type ForgetOptions,
  type ForgetResult,
} from '../../forget/forget.ts';
import { isUnlearnMethod, METHODS, type UnlearnOptions } from '../../forget/unlearning/methods.ts';
import { forgetConfig, forgetKind } from '../../experiments/kinds/forget.ts';
import { kindKey } from '../../experiments/kinds/index.ts';
import { configKey, givenRunDir, resultOf, runInStore } from '../../experiments/sweep.ts';
import { AVERAGINGS, type Averaging, SCALINGS, type Scaling } from '../../forget/lissa.ts';
import { INFLUENCE_MODES, type InfluenceMode } from '../../forget/groupInfluence.ts';
import { loadCheckpoint, metadataJson } from '../../store/checkpoint.ts';
import { ResultsStore } from '../../store/results.ts';
import type { TrainConfig } from '../../train/config.ts';
import { UserError } from '../../util/errors.ts';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cleanedConfig } from '../../forget/forget.ts';
import type { RunContext } from '../../experiments/kinds/index.ts';
import { train } from '../../train/trainer.ts';

const USAGE = `spurlab forget <run DIR> --method incremental|influence|retrain|${METHODS.map((m) => m.name).join('|')} [--lr X] [--more-epochs E]
       [--damp 0.01] [--scale 25|auto] [--depth D] [--repeats 10] [--scaling reference|textbook] [--average mean|reference] [--mode fast|reference]
       [--seed S] [--with-retrain] [--out DIR] [--store PATH] [--data-dir DIR] [--json]
   unlearning methods (always compared with the retrained model; each takes the options of its defaults):
       [--epochs E] [--batch B] [--forget-batch B] [--momentum M] [--weight-decay W] [--alpha A] [--gamma G]
       [--temperature T] [--max-steps K] [--threshold F] [--lambda L]
${METHODS.map(
  (m) =>
    `     ${m.name}: ${m.summary}; reads the ${m.data}; defaults ${Object.entries(m.defaults)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (${m.source.split(':')[0]})`,
).join('\n')}`;

/** CLI option -> unlearning option. */
const UNLEARN_FLAGS: readonly [string, keyof UnlearnOptions][] = [
  ['epochs', 'epochs'],
  ['batch', 'batch'],
  ['forget-batch', 'forgetBatch'],
  ['momentum', 'momentum'],
  ['weight-decay', 'weightDecay'],
  ['alpha', 'alpha'],
  ['gamma', 'gamma'],
  ['temperature', 'temperature'],
  ['max-steps', 'maxSteps'],
  ['threshold', 'threshold'],
  ['lambda', 'lambda'],
];

const UNLEARN_HELP: Record<keyof UnlearnOptions, string> = {
  epochs: 'E: unlearning: passes over its data',
  lr: 'X: unlearning: learning rate',
  batch: 'B: unlearning: batch size',
  forgetBatch: 'B: scrub: forget-set batch size',
  momentum: 'M: unlearning: SGD momentum',
  weightDecay: 'W: unlearning: SGD weight decay',
  alpha: "A: the method's alpha (each method's own weighting, as in its paper)",
  gamma: 'G: scrub: gamma',
  temperature: 'T: scrub: distillation temperature',
  maxSteps: 'K: scrub: max epochs (the forget steps)',
  threshold: 'F: salun: the saliency mask threshold',
  lambda: 'L: ssd: dampening',
};

/** "10 (finetune, salun), 5 (scrub)": the unlearning methods' own defaults of one option. */
function unlearnDefaults(key: keyof UnlearnOptions): string {
  const byValue = new Map<number, string[]>();
  for (const m of METHODS) {
    const v = m.defaults[key];
    if (v !== undefined) byValue.set(v, [...(byValue.get(v) ?? []), m.name]);
  }
  return [...byValue].map(([v, names]) => `${v} (${names.join(', ')})`).join(', ');
}

const positive = (v: number) => v > 0;
const posInt = (v: number) => Number.isInteger(v) && v >= 1;

function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new UserError(`--${name}: got ${JSON.stringify(raw)}, expected ${allowed.join(' or ')}`);
  return raw as T;
}

/** The deletion options given on the command line (the rest take the reference defaults). */
export function forgetOptionsFrom(args: ParsedArgs, method?: string): ForgetOptions {
  const o: ForgetOptions = {};
  const unlearn: UnlearnOptions = {};
  for (const [flagName, key] of UNLEARN_FLAGS) {
    if (args.values[flagName] === undefined) continue;
    if (!method || !isUnlearnMethod(method))
      throw new UserError(
        `--${flagName}: an option of the unlearning methods (${METHODS.map((m) => m.name).join(', ')}), not of ${method ?? 'this method'}`,
      );
    unlearn[key] = numberOption(args, flagName, 0, Number.isFinite, 'a number');
  }
  if (method && isUnlearnMethod(method)) {
    if (args.values.lr !== undefined) unlearn.lr = numberOption(args, 'lr', 0, positive, 'a positive number');
    o.unlearn = unlearn;
  }
  const num = (name: string, check: (v: number) => boolean, expected: string) =>
    args.values[name] === undefined ? undefined : numberOption(args, name, 0, check, expected);
  if (!o.unlearn) o.lr = num('lr', positive, 'a positive number');
  o.damp = num('damp', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  const scale = stringOption(args, 'scale');
  o.scale = scale === 'auto' ? 'auto' : num('scale', positive, 'a positive number or auto');
  o.depth = num('depth', posInt, 'a positive integer');
  o.repeats = num('repeats', posInt, 'a positive integer');
  o.seed = num('seed', (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'an integer in [0, 2^32)');
  o.scaling = choice<Scaling>(args, 'scaling', SCALINGS);
  o.average = choice<Averaging>(args, 'average', AVERAGINGS);
  o.moreEpochs = num('more-epochs', posInt, 'a positive integer (epochs of incremental retraining; the reference: 1)');
  o.mode = choice<InfluenceMode>(args, 'mode', INFLUENCE_MODES);
  if (flag(args, 'with-retrain')) o.withRetrain = true;
  for (const k of Object.keys(o) as (keyof ForgetOptions)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function runDirFrom(args: ParsedArgs, usage: string): string {
  const where = args.positionals[0];
  if (!where) throw new UserError(`which run? expected a run directory: ${usage.split('\n')[0]}`);
  if (args.positionals.length > 1) throw new UserError(`unexpected argument ${JSON.stringify(args.positionals[1])}; expected one run directory`);
  if (!existsSync(where)) throw new UserError(`${where}: no such run directory`);
  if (!statSync(where).isDirectory()) throw new UserError(`${where}: not a directory; expected a run directory written by spurlab train`);
  if (!existsSync(join(where, 'model.safetensors')))
    throw new UserError(`${where}: no model.safetensors here; expected a run directory written by spurlab train`);
  return where;
}

const f4 = (v: number) => v.toFixed(4);

const opt4 = (v: number | undefined) => (v === undefined ? '-' : f4(v));

// accuracies in % (as every command prints them); scores and rates stay 0-1 fractions
const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${(100 * v).toFixed(2)}%`);

function measuredLine(m: ForgetResult['before']): string {
  return (
    `score ${f4(m.score)} (non-target ${opt4(m.scoreNonTarget)}), test acc ${pct(m.testAcc)}, patterned acc ${pct(m.patternedTestAcc)}, ` +
    `forget acc ${pct(m.forgetAcc)}, retain acc ${pct(m.retainAcc)}, forget member rate ${opt4(m.forgetMemberRate)}`
  );
}

function printReport(out: (l: string) => void, r: ForgetResult): void {
  out(
    `forget by ${r.method}: ${r.removed} spurious examples out of ${r.trainSize} training examples, ${r.seconds.toFixed(1)} s${r.hvps ? `, ${r.hvps} Hessian-vector products` : ''}`,
  );
  out(`  before:  ${measuredLine(r.before)}`);
  out(`  after:   ${measuredLine(r.after)}`);
  if (r.retrain && r.method !== 'retrain') out(`  retrain: ${measuredLine(r.retrain)}`);
  const u = r.unlearning;
  if (u) {
    out(
      `  ${r.method} reads the ${u.data}; ${Object.entries(u.options)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; ${u.steps} steps` +
        `${u.steps ? `, loss ${u.lossFirst.toPrecision(4)} -> ${u.lossLast.toPrecision(4)}` : ''}${Object.entries(u.extra)
          .map(([k, v]) => `, ${k} ${Number(v.toPrecision(4))}`)
          .join('')}`,
    );
  }
  if (r.distance) {
    out(
      `  to the retrained model: l2 ${r.distance.before.paramL2.toPrecision(4)} -> ${r.distance.after.paramL2.toPrecision(4)}, test KL ${r.distance.before.testKl.toPrecision(4)} -> ${r.distance.after.testKl.toPrecision(4)}; moved ${r.moved?.toPrecision(4) ?? '-'}`,
    );
  }
  if (r.methodSeconds !== undefined) {
    out(
      `  time: ${r.methodSeconds.toFixed(1)} s for the method${r.retrainSeconds ? `, retraining ${r.retrainSeconds.toFixed(1)} s (x${r.relativeTime!.toFixed(3)})` : ''}`,
    );
  }
  if (r.epochs)
    out(
      `  trained on from epoch ${r.epochs.from} to ${r.epochs.to} without the scheduler, lr ${r.epochs.lr === 'schedule' ? 'where the schedule left it' : r.epochs.lr}`,
    );
  const i = r.influence;
  if (i) {
    out(
      `  LiSSA: ${i.scaling} scaling (${i.scaling === 'reference' ? 'h kept as is, ~ scale (H + scale damp I)^-1 v' : 'h / scale, ~ (H + scale damp I)^-1 v'}), ${i.mode} mode, ` +
        `damp ${i.damp}, scale ${i.scale}${i.scaleSource === 'auto' ? ` (auto: ${i.scaleMargin} x max(lambda_max of the batch Hessian ${i.lambdaMax!.toPrecision(4)}, of one-example Hessians ${i.lambdaMaxSingle!.toPrecision(4)}))` : ''}, depth ${i.depth}, r = ${i.repeats}, ${i.engine} HVPs`,
    );
    const n = i.lissaNorms;
    out(
      `  iterate norm over the steps: ${n.steps.map((s, k) => `${s}:${n.norms[k].toPrecision(3)}`).join(' ')}${n.diverged || n.runsDiverged ? `  DIVERGED (${n.runsDiverged} run(s)); raise --scale` : ''}`,
    );
    out(`  ||delta|| = ${i.deltaNorm.toPrecision(4)}`);
  }
}

// An unlearning method also asks for the run retrained without the spurious examples:
// trained here (into --out/retrain, or a temporary directory that cleanup removes), the
// base run is the given one.
function withRetrainedRun(
  given: RunContext['trainedModel'],
  base: TrainConfig,
  outDir: string | undefined,
  dataDir: string | undefined,
): { trainedModel: RunContext['trainedModel']; cleanup: () => void } {
  const cleaned = configKey(cleanedConfig(base));
  const temporary: string[] = [];
  const trainedModel: RunContext['trainedModel'] = async (cfg) => {
    if (configKey(cfg) !== cleaned) return given(cfg);
    const out = outDir ? join(outDir, 'retrain') : mkdtempSync(join(tmpdir(), 'spurlab-retrain-'));
    if (!outDir) temporary.push(out);
    await train(cfg, { outDir: out, dataDir });
    return out;
  };
  return { trainedModel, cleanup: () => temporary.forEach((d) => rmSync(d, { recursive: true, force: true })) };
}

export const forgetCommand: Command = {
  name: 'forget',
  summary:
    'Delete the spurious examples from a trained run (incremental retraining, group influence, retraining, or an unlearning method) and measure before and after.',
  usage: USAGE,
  options: {
    method: { type: 'string', help: `M: ${FORGET_METHODS.join(', ')}`, defaultText: 'required' },
    lr: {
      type: 'string',
      help: 'X: incremental: a fresh learning rate for the extra epochs; an unlearning method: its learning rate',
      defaultText: `incremental: where the run's schedule left it; ${unlearnDefaults('lr')}`,
    },
    ...Object.fromEntries(
      UNLEARN_FLAGS.map(([f, key]) => [f, { type: 'string' as const, help: UNLEARN_HELP[key], defaultText: unlearnDefaults(key) }]),
    ),
    damp: { type: 'string', help: 'X: influence: LiSSA damping, in [0, 1)', defaultText: String(FORGET_DEFAULTS.damp) },
    scale: {
      type: 'string',
      help: 'X|auto: influence: LiSSA scale (auto: from the largest Hessian eigenvalue)',
      defaultText: `the reference's: ${referenceScale('mnist')} (MNIST), ${referenceScale('fashion')} (Fashion), ${referenceScale('cifar10')} (CIFAR)`,
    },
    depth: {
      type: 'string',
      help: 'D: influence: LiSSA recursion depth',
      defaultText: `the reference's: ${referenceDepth('mnist', 1)}, or ${referenceDepth('cifar10', 1)} for CIFAR or 100 or more examples removed`,
    },
    repeats: { type: 'string', help: 'R: influence: LiSSA repeats averaged', defaultText: String(FORGET_DEFAULTS.repeats) },
    scaling: { type: 'string', help: `${SCALINGS.join('|')}: influence: how the LiSSA estimate is scaled`, defaultText: FORGET_DEFAULTS.scaling },
    average: {
      type: 'string',
      help: `${AVERAGINGS.join('|')}: influence: how LiSSA's repeats combine (reference: the first repeat / r, as the reference computes)`,
      defaultText: FORGET_DEFAULTS.average,
    },
    'more-epochs': {
      type: 'string',
      help: 'E: incremental: epochs trained on without the spurious examples (the reference: 1)',
      defaultText: "the base run's epochs",
    },
    mode: { type: 'string', help: `${INFLUENCE_MODES.join('|')}: influence: how the group influence is computed`, defaultText: FORGET_DEFAULTS.mode },
    seed: { type: 'string', help: "S: influence: seed of LiSSA's example draws", defaultText: String(FORGET_DEFAULTS.seed) },
    'with-retrain': { type: 'boolean', help: 'also retrain from scratch without the spurious examples and report it beside the method' },
    out: { type: 'string', help: 'DIR: keep the models trained here (incremental/, retrain/)', defaultText: 'none: not kept' },
    store: { type: 'string', help: 'PATH: record the run in this results store (kind forget)', defaultText: 'none: not recorded' },
    'data-dir': DATA_DIR_OPTION,
    json: { type: 'boolean', help: 'print the result as one JSON line (accuracies as 0-1 fractions)' },
  },
  example: 'spurlab forget runs/s3-n3 --method incremental --with-retrain',
  async run(args, io) {
    const method = stringOption(args, 'method');
    if (method === undefined) throw new UserError(`--method is required: one of ${FORGET_METHODS.join(', ')}`);
    const m = checkMethod(method);
    const options = forgetOptionsFrom(args, m);
    const dir = runDirFrom(args, USAGE);
    const json = flag(args, 'json');
    const cfg = metadataJson<TrainConfig>(loadCheckpoint(join(dir, 'model.safetensors')), 'config');
    const ctx = {
      dataDir: stringOption(args, 'data-dir'),
      outDir: stringOption(args, 'out'),
      events: json ? undefined : progressEvents(2 * cfg.epochs, m),
    };
    const storePath = stringOption(args, 'store');
    let result: ForgetResult;
    let note = '';
    if (storePath) {
      const config = forgetConfig(cfg, m, options);
      const store = ResultsStore.open(storePath);
      const retrained = withRetrainedRun(givenRunDir(dir, cfg), cfg, ctx.outDir, ctx.dataDir);
      try {
        const outcome = await runInStore(store, forgetKind, config, {
          artifacts: false,
          artifactDir: ctx.outDir,
          dataDir: ctx.dataDir,
          trainedModel: retrained.trainedModel,
          events: ctx.events && { onStep: ctx.events.onStep, onEpoch: (_phase, r) => ctx.events?.onEpoch?.(r) },
        });
        const stored = resultOf(forgetKind, outcome, storePath);
        const key = kindKey(forgetKind, config);
        result = stored.result;
        note = stored.fromStore
          ? `  (an identical run was already in ${storePath}: run ${key.slice(0, 12)}; nothing was recomputed)`
          : `  recorded in ${storePath} as run ${key.slice(0, 12)} (kind forget)`;
      } finally {
        retrained.cleanup();
        store.close();
      }
    } else {
      result = await forgetRun(dir, m, options, ctx);
    }
    if (json) {
      io.out(JSON.stringify(result));
      return 0;
    }
    printReport(io.out, result);
    if (note) io.out(note);
    return 0;
  },
};
