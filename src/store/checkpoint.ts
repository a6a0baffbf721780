// Training checkpoints in safetensors: the model's parameters and buffers under their
// PyTorch state_dict names, the optimizer state under "optimizer.<i>.<name>", and the
// rest (config, epoch, RNG state, optimizer scalars) as JSON metadata. Written
// atomically, so a killed run never leaves a half-written checkpoint.
import { existsSync } from 'node:fs';
import { Tensor } from '../tensor/tensor.ts';
import type { Module } from '../nn/module.ts';
import { UserError } from '../util/errors.ts';
import { readSafetensors, writeSafetensors, type SafetensorsTensor } from './safetensors.ts';

export const CHECKPOINT_FORMAT = 'spurlab-checkpoint';
export const CHECKPOINT_VERSION = '1';

export interface Checkpoint {
  path: string;
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

function toEntry(t: Tensor): SafetensorsTensor {
  const data = t.values();
  return data instanceof Float64Array ? { dtype: 'F64', shape: t.shape, data } : { dtype: 'F32', shape: t.shape, data: data as Float32Array };
}

export function saveCheckpoint(path: string, model: Module, optimizerState: Map<string, Tensor>, metadata: Record<string, string>): void {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const [name, t] of model.stateDict()) tensors[name] = toEntry(t);
  for (const [name, t] of optimizerState) tensors[`optimizer.${name}`] = toEntry(t);
  writeSafetensors(path, tensors, { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, ...metadata });
}

/** Reads a checkpoint or a plain safetensors file of weights (e.g. saved by PyTorch). */
export function loadCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new UserError(`${path}: no such checkpoint file`);
  const { tensors, metadata } = readSafetensors(path);
  const out = new Map<string, Tensor>();
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype === 'F32') out.set(name, new Tensor(Float32Array.from(t.data as Float32Array), t.shape));
    else if (t.dtype === 'F64') out.set(name, new Tensor(Float32Array.from(t.data as Float64Array), t.shape));
    // integer tensors (BatchNorm's num_batches_tracked) carry nothing spurlab uses
  }
  return { path, tensors: out, metadata };
}

/** The first NaN or infinite value of `values`, as its index, or -1. */
function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/**
 * Copies a checkpoint's weights into the model; every parameter and buffer must be
 * present with its shape, and finite: a NaN or infinite weight (a diverged run, a damaged
 * file) would be scored, deleted or attacked silently, with meaningless numbers.
 */
export function loadModelState(model: Module, ckpt: Checkpoint): void {
  for (const name of model.stateDict().keys()) {
    const values = ckpt.tensors.get(name)?.values();
    const bad = values ? firstNonFinite(values) : -1;
    if (values && bad >= 0) {
      const count = Array.prototype.filter.call(values, (v: number) => !Number.isFinite(v)).length;
      throw new UserError(
        `${ckpt.path}: tensor "${name}" holds ${count} non-finite value${count === 1 ? '' : 's'} (the first, ${values[bad]}, at index ${bad}); expected finite weights, so this model cannot be used (retrain it, or resume from an earlier checkpoint)`,
      );
    }
  }
  const problems: string[] = [];
  for (const [name, t] of model.stateDict()) {
    const src = ckpt.tensors.get(name);
    if (!src) problems.push(`missing "${name}" [${t.shape.join(', ')}]`);
    else if (src.shape.join(',') !== t.shape.join(','))
      problems.push(`"${name}" has shape [${src.shape.join(', ')}], the model expects [${t.shape.join(', ')}]`);
    else t.data.set(src.values());
  }
  const known = new Set(model.stateDict().keys());
  const unexpected = [...ckpt.tensors.keys()].filter((k) => !known.has(k) && !k.startsWith('optimizer.'));
  if (unexpected.length > 0)
    problems.push(
      `unexpected ${unexpected
        .slice(0, 5)
        .map((k) => `"${k}"`)
        .join(', ')}${unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : ''}`,
    );
  if (problems.length > 0) throw new UserError(`${ckpt.path}: weights do not fit the model: ${problems.slice(0, 6).join('; ')}`);
}

/** The optimizer tensors of a checkpoint, without the "optimizer." prefix. */
export function optimizerTensors(ckpt: Checkpoint): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of ckpt.tensors) if (k.startsWith('optimizer.')) out.set(k.slice('optimizer.'.length), t);
  return out;
}

export function metadataJson<T>(ckpt: Checkpoint, key: string): T {
  const raw = ckpt.metadata[key];
  if (raw === undefined) throw new UserError(`${ckpt.path}: not a spurlab training checkpoint (no "${key}" in its metadata)`);
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new UserError(`${ckpt.path}: metadata "${key}" is not valid JSON`);
  }
}
