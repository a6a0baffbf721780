// Batched inference in eval mode: softmax probabilities and accuracy.
import type { Dataset } from '../data/dataset.ts';
import type { Module } from '../nn/module.ts';
import { noGrad } from '../autograd/tape.ts';
import * as ops from '../ops/index.ts';
import { StorageArena } from '../tensor/arena.ts';
import { makeBatch, type Layout } from './batches.ts';

export interface Predictions {
  probs: Float32Array; // [n, classes]
  predicted: Int32Array; // [n]
  classes: number;
}

/** Softmax outputs of the model on every image of d (or on the given indices). */
export function predict(model: Module, layout: Layout, d: Dataset, indices?: ArrayLike<number>, batchSize = 1000): Predictions {
  const idx = indices ?? Int32Array.from({ length: d.n }, (_, i) => i);
  const wasTraining = model.training;
  model.eval();
  const classes = d.numClasses;
  const probs = new Float32Array(idx.length * classes);
  const predicted = new Int32Array(idx.length);
  try {
    // each batch's tensors live in an arena, taken back once its outputs are copied out
    const arena = new StorageArena();
    noGrad(() => {
      for (let start = 0; start < idx.length; start += batchSize) {
        const chunk = Array.prototype.slice.call(idx, start, Math.min(start + batchSize, idx.length)) as number[];
        arena.run(() => {
          const p = ops.softmax(model.forward(makeBatch(d, chunk, { layout }))).values();
          probs.set(p, start * classes);
          for (let i = 0; i < chunk.length; i++) predicted[start + i] = argmax(p, i * classes, classes);
        });
        arena.recycle();
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return { probs, predicted, classes };
}

export function argmax(v: ArrayLike<number>, offset: number, len: number): number {
  let best = 0;
  for (let j = 1; j < len; j++) if (v[offset + j] > v[offset + best]) best = j;
  return best;
}

export function accuracy(pred: Int32Array, labels: Int32Array): number {
  let hit = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) hit++;
  return pred.length === 0 ? NaN : hit / pred.length;
}
