// `spurlab forget`: delete a trained run's spurious examples by incremental retraining,
// first-order group influence (LiSSA) or retraining from scratch, and measure the
// spurious score and test accuracy before and after.
import { existsSync, statSync } from 'node:fs';
import { flag, numberOption, stringOption, type Command, type ParsedArgs } from '../command.ts';
import { progressEvents } from './train.ts';
import { checkMethod, forgetRun, type ForgetOptions, type ForgetResult } from '../../forget/forget.ts';
import { forgetConfig, forgetKind } from '../../experiments/kinds/forget.ts';
import { kindKey } from '../../experiments/kinds/index.ts';
import { givenRunDir, resultOf, runInStore } from '../../experiments/sweep.ts';
import { SCALINGS, type Scaling } from '../../forget/lissa.ts';
import { INFLUENCE_MODES, type InfluenceMode } from '../../forget/groupInfluence.ts';
import { loadCheckpoint, metadataJson } from '../../store/checkpoint.ts';
import { ResultsStore } from '../../store/results.ts';
import type { TrainConfig } from '../../train/config.ts';
import { UserError } from '../../util/errors.ts';
import { join } from 'node:path';

const USAGE = `spurlab forget <run DIR> --method incremental|influence|retrain [--lr X]
       [--damp 0.01] [--scale 25|auto] [--depth D] [--repeats 10] [--scaling reference|textbook] [--mode fast|reference]
       [--seed S] [--with-retrain] [--out DIR] [--store PATH] [--data-dir DIR] [--json]`;

const positive = (v: number) => v > 0;
const posInt = (v: number) => Number.isInteger(v) && v >= 1;

function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[]): T | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new UserError(`--${name}: got ${JSON.stringify(raw)}, expected ${allowed.join(' or ')}`);
  return raw as T;
}

/** The deletion options given on the command line (the rest take the reference defaults). */
export function forgetOptionsFrom(args: ParsedArgs): ForgetOptions {
  const o: ForgetOptions = {};
  const num = (name: string, check: (v: number) => boolean, expected: string) => (args.values[name] === undefined ? undefined : numberOption(args, name, 0, check, expected));
  o.lr = num('lr', positive, 'a positive number');
  o.damp = num('damp', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  const scale = stringOption(args, 'scale');
  o.scale = scale === 'auto' ? 'auto' : num('scale', positive, 'a positive number or auto');
  o.depth = num('depth', posInt, 'a positive integer');
  o.repeats = num('repeats', posInt, 'a positive integer');
  o.seed = num('seed', (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'an integer in [0, 2^32)');
  o.scaling = choice<Scaling>(args, 'scaling', SCALINGS);
  o.mode = choice<InfluenceMode>(args, 'mode', INFLUENCE_MODES);
  if (flag(args, 'with-retrain')) o.withRetrain = true;
  for (const k of Object.keys(o) as (keyof ForgetOptions)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function runDirFrom(args: ParsedArgs, usage: string): string {
  const where = args.positionals[0];
  if (!where) throw new UserError(`which run? expected a run directory: ${usage.split("\n")[0]}`);
  if (args.positionals.length > 1) throw new UserError(`unexpected argument ${JSON.stringify(args.positionals[1])}; expected one run directory`);
  if (!existsSync(where)) throw new UserError(`${where}: no such run directory`);
  if (!statSync(where).isDirectory()) throw new UserError(`${where}: not a directory; expected a run directory written by spurlab train`);
  if (!existsSync(join(where, 'model.safetensors'))) throw new UserError(`${where}: no model.safetensors here; expected a run directory written by spurlab train`);
  return where;
}

const f4 = (v: number) => v.toFixed(4);

function printReport(out: (l: string) => void, r: ForgetResult): void {
  out(`forget by ${r.method}: ${r.removed} spurious examples out of ${r.trainSize} training examples, ${r.seconds.toFixed(1)} s${r.hvps ? `, ${r.hvps} Hessian-vector products` : ''}`);
  out(`  before:  score ${f4(r.before.score)}, test acc ${f4(r.before.testAcc)}`);
  out(`  after:   score ${f4(r.after.score)}, test acc ${f4(r.after.testAcc)}`);
  if (r.retrain && r.method !== 'retrain') out(`  retrain: score ${f4(r.retrain.score)}, test acc ${f4(r.retrain.testAcc)}`);
  if (r.epochs) out(`  trained on from epoch ${r.epochs.from} to ${r.epochs.to} without the scheduler, lr ${r.epochs.lr === 'schedule' ? "where the schedule left it" : r.epochs.lr}`);
  const i = r.influence;
  if (i) {
    out(`  LiSSA: ${i.scaling} scaling (${i.scaling === 'reference' ? 'h kept as is, ~ scale (H + scale damp I)^-1 v' : 'h / scale, ~ (H + scale damp I)^-1 v'}), ${i.mode} mode, ` +
      `damp ${i.damp}, scale ${i.scale}${i.scaleSource === 'auto' ? ` (auto: ${i.scaleMargin} x max(lambda_max of the batch Hessian ${i.lambdaMax!.toPrecision(4)}, of one-example Hessians ${i.lambdaMaxSingle!.toPrecision(4)}))` : ''}, depth ${i.depth}, r = ${i.repeats}, ${i.engine} HVPs`);
    const n = i.lissaNorms;
    out(`  iterate norm over the steps: ${n.steps.map((s, k) => `${s}:${n.norms[k].toPrecision(3)}`).join(' ')}${n.diverged || n.runsDiverged ? `  DIVERGED (${n.runsDiverged} run(s)); raise --scale` : ''}`);
    out(`  ||delta|| = ${i.deltaNorm.toPrecision(4)}`);
  }
}

export const forgetCommand: Command = {
  name: 'forget',
  summary: 'Delete the spurious examples from a trained run (incremental retraining, group influence, or retraining) and measure the score before and after.',
  usage: USAGE,
  options: {
    method: { type: 'string' }, lr: { type: 'string' }, damp: { type: 'string' }, scale: { type: 'string' }, depth: { type: 'string' },
    repeats: { type: 'string' }, scaling: { type: 'string' }, mode: { type: 'string' }, seed: { type: 'string' }, 'with-retrain': { type: 'boolean' },
    out: { type: 'string' }, store: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' },
  },
  async run(args, io) {
    const method = stringOption(args, 'method');
    if (method === undefined) throw new UserError(`--method is required: incremental, influence or retrain`);
    const m = checkMethod(method);
    const options = forgetOptionsFrom(args);
    const dir = runDirFrom(args, USAGE);
    const json = flag(args, 'json');
    const cfg = metadataJson<TrainConfig>(loadCheckpoint(join(dir, 'model.safetensors')), 'config');
    const ctx = { dataDir: stringOption(args, 'data-dir'), outDir: stringOption(args, 'out'), events: json ? undefined : progressEvents(2 * cfg.epochs, m) };
    const storePath = stringOption(args, 'store');
    let result: ForgetResult;
    let note = '';
    if (storePath) {
      const config = forgetConfig(cfg, m, options);
      const store = ResultsStore.open(storePath);
      try {
        const outcome = await runInStore(store, forgetKind, config, {
          artifacts: false, artifactDir: ctx.outDir, dataDir: ctx.dataDir, trainedModel: givenRunDir(dir, cfg),
          events: ctx.events && { onStep: ctx.events.onStep, onEpoch: (_phase, r) => ctx.events?.onEpoch?.(r) },
        });
        const stored = resultOf(forgetKind, outcome, storePath);
        const key = kindKey(forgetKind, config);
        result = stored.result;
        note = stored.fromStore ? `  (an identical run was already in ${storePath}: run ${key.slice(0, 12)}; nothing was recomputed)` : `  recorded in ${storePath} as run ${key.slice(0, 12)} (kind forget)`;
      } finally {
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
