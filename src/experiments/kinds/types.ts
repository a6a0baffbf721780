// What a kind of run declares, once, so that sweeps (local, queue, Slurm), the results
// store, `results` and the report treat every kind alike: its configuration (the keys
// a sweep grid or the command takes, validated, defaults filled), the stored config its
// key is the hash of, the training runs it needs first, how it runs, its typed result
// and the columns `results` shows for it. A new kind is a new declaration in
// kinds/index.ts; nothing else has to change.
import type { EpochRecord, TrainEvents } from '../../train/trainer.ts';
import type { TrainConfig } from '../../train/config.ts';
import { UserError } from '../../util/errors.ts';

/** Progress of a run: phases (e.g. target and shadow model) and their epochs. */
export interface RunEvents {
  onPhase?(phase: string): void;
  onEpoch?(phase: string, record: EpochRecord): void;
  onStep?: TrainEvents['onStep'];
}

/** Where and how a run executes; made by the local sweep, the queue worker, Slurm or a command. */
export interface RunContext {
  dataDir?: string;
  /** This run's own directory for checkpoints (continued when a killed attempt left one); none when undefined. */
  artifactDir?: string;
  events?: RunEvents;
  /**
   * The directory of a finished training run of `config` (a dependency): reused when it
   * is there, otherwise trained (and, where a store is at hand, recorded) first.
   */
  trainedModel(config: TrainConfig): Promise<string>;
  /**
   * The result of a finished run of another kind this run reads (one of its `inputs`):
   * from the store (run and recorded first if missing), or sent along with a queue job.
   * Absent: inputOf runs the input here, unrecorded.
   */
  resultOf?(kind: string, config: object): Promise<object>;
}

/** A run of some kind named by its config (an input of another run). */
export interface RunRef {
  kind: string;
  config: Record<string, unknown>;
}

export interface RunOutput<R> {
  result: R;
  perImage?: Uint8Array;
  /** > 0 when a checkpoint left by a killed attempt was continued. */
  resumedFromEpoch?: number;
}

/** A column of `results --kind K`: a number averaged over the group's runs (mean and SEM). */
export interface ResultColumn<R> {
  name: string;
  value(result: R): number;
}

export interface RunKind<C extends object, R extends object> {
  name: string;
  /** One line for help texts. */
  description: string;
  /** The keys a sweep grid of this kind takes: the command's options in camelCase. */
  keys: readonly string[];
  required: readonly string[];
  /**
   * Validates a grid point or a transported config and fills the defaults; the result
   * is normalized (configure(configure(x)) equals configure(x)), JSON, and what the
   * queue and Slurm carry. Unknown keys and bad values are UserErrors.
   */
  configure(input: Record<string, unknown>): C;
  /** What the store records (and the key hashes): everything that changes the result. */
  storeConfig(config: C): object;
  /** Training runs that must be finished first (by config). */
  dependencies(config: C): TrainConfig[];
  /**
   * Runs of other kinds (not train runs) whose results this one reads through
   * ctx.resultOf, e.g. a LiRA attack's shadow models: planned ahead of it like dependencies.
   */
  inputs?(config: C): RunRef[];
  run(config: C, ctx: RunContext): Promise<RunOutput<R>>;
  /** Checks a result read back (store, queue, Slurm file); `where` names its source. */
  checkResult(value: unknown, where: string): R;
  /** Config keys `results --kind K` always groups by (with every other key that differs among the runs). */
  groupBy: readonly string[];
  /** Columns `results --kind K` averages per group. */
  columns: readonly ResultColumn<R>[];
  /** Report sections this kind feeds (report/collect.ts reads them). */
  reportSections: readonly string[];
  /** A few words naming a run in progress lines. */
  label(config: C): string;
  /** One line on a finished run. */
  outcome(result: R): string;
}

/**
 * A kind of any config and result type, as the registry holds them. Its methods take
 * what its own configure and run produced; callers that know the kind use RunKind<C, R>.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRunKind = RunKind<any, any>;

/** A plain JSON object, or a UserError naming `where`. */
export function objectAt(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UserError(`${where}: expected a JSON object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

/** Checks that `fields` of a result are numbers (null stands for NaN, as JSON stores it) and returns it typed. */
export function resultWithNumbers<R>(value: unknown, fields: readonly string[], where: string): R {
  const o = objectAt(value, where);
  for (const f of fields) {
    if (o[f] === null) o[f] = NaN;
    if (typeof o[f] !== 'number') throw new UserError(`${where}: result field "${f}" is ${JSON.stringify(o[f])}; expected a number`);
  }
  return o as R;
}

/** Refuses keys a kind does not take, naming them and the ones it does. */
export function checkKeys(input: Record<string, unknown>, kind: string, keys: readonly string[], required: readonly string[]): void {
  for (const k of Object.keys(input)) {
    if (input[k] !== undefined && !keys.includes(k)) throw new UserError(`unknown key "${k}" for kind ${kind}; expected one of ${keys.join(', ')}`);
  }
  for (const k of required) if (input[k] === undefined) throw new UserError(`missing "${k}" (kind ${kind} needs ${required.join(', ')})`);
}

/**
 * The result of an input run: through the context (store, queue job) when it offers
 * one, otherwise run here in this process (nothing recorded).
 */
export async function inputOf<C extends object, R extends object>(ctx: RunContext, kind: RunKind<C, R>, config: C): Promise<R> {
  if (ctx.resultOf) return kind.checkResult(await ctx.resultOf(kind.name, config), `input run of kind ${kind.name}`);
  return (await kind.run(config, ctx)).result;
}
