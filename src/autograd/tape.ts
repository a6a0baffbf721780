// Reverse-mode autograd on an iterative tape.
//
// Every op output that depends on a tensor requiring gradients carries a GradNode: its
// inputs and a backward function written with differentiable ops. Backward walks the
// graph in reverse topological order found without recursion (deep ResNets would
// overflow the JS stack). With createGraph the backward ops are themselves recorded,
// which gives exact higher derivatives (Hessian-vector products by double backward).
import type { Tensor } from '../tensor/tensor.ts';
import { sameShape, shapeStr } from '../tensor/shape.ts';

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Gradients of the inputs given the gradient of the output (null: no gradient). */
  backward(dy: Tensor): (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs fn without recording gradients (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Attaches a GradNode to out when grad mode is on and an input requires gradients. */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: (dy: Tensor) => (Tensor | null)[]): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, backward };
  }
  return out;
}

/** Post-order (inputs before users) of the graph below roots, iteratively. */
export function topologicalOrder(roots: Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: { t: Tensor; next: number }[] = [];
  for (const root of roots) {
    if (!root.requiresGrad || visited.has(root)) continue;
    visited.add(root);
    stack.push({ t: root, next: 0 });
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      const inputs = frame.t.node?.inputs ?? [];
      if (frame.next < inputs.length) {
        const child = inputs[frame.next++];
        if (child.requiresGrad && !visited.has(child)) {
          visited.add(child);
          stack.push({ t: child, next: 0 });
        }
      } else {
        order.push(frame.t);
        stack.pop();
      }
    }
  }
  return order;
}

export interface GradOptions {
  /** Gradients of the outputs; default ones (outputs must then be scalars). */
  gradOutputs?: Tensor[];
  /** Record the backward pass so its results can be differentiated again. */
  createGraph?: boolean;
  /** Return null for inputs that do not affect the outputs instead of throwing. */
  allowUnused?: boolean;
}

// Accumulates gradients from outputs back to every tensor in the graph; returns the map.
function propagate(outputs: Tensor[], gradOutputs: Tensor[], createGraph: boolean, keep: Set<Tensor> | null): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>();
  return withGradMode(createGraph, () => {
    outputs.forEach((o, i) => accumulate(grads, o, gradOutputs[i]));
    const order = topologicalOrder(outputs);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const node = t.node;
      const g = grads.get(t);
      if (!node || !g) continue;
      const inGrads = node.backward(g);
      node.inputs.forEach((input, j) => {
        const gi = inGrads[j];
        if (!gi || !input.requiresGrad) return;
        if (!sameShape(gi.shape, input.shape)) {
          throw new Error(
            `autograd: backward of ${node.op} gave a gradient of shape ${shapeStr(gi.shape)} for an input of shape ${shapeStr(input.shape)}`,
          );
        }
        accumulate(grads, input, gi);
      });
      if (!keep || !keep.has(t)) grads.delete(t);
    }
    return grads;
  });
}

function accumulate(grads: Map<Tensor, Tensor>, t: Tensor, g: Tensor): void {
  const prev = grads.get(t);
  grads.set(t, prev ? prev.add(g) : g);
}

function defaultGradOutputs(outputs: Tensor[]): Tensor[] {
  return outputs.map((o) => {
    if (o.size !== 1) throw new Error(`autograd: gradient of a non-scalar output of shape ${shapeStr(o.shape)} needs gradOutputs`);
    return o.onesLike();
  });
}

/** Gradients of outputs with respect to inputs (like torch.autograd.grad). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const gouts = opts.gradOutputs ?? defaultGradOutputs(outs);
  const grads = propagate(outs, gouts, opts.createGraph ?? false, new Set(inputs));
  return inputs.map((t, i) => {
    const g = grads.get(t) ?? null;
    if (!g && !opts.allowUnused) throw new Error(`autograd: input ${i} (shape ${shapeStr(t.shape)}) does not affect the outputs; pass allowUnused`);
    return g;
  });
}

/** Accumulates d(output)/d(leaf) into leaf.grad for every leaf requiring gradients. */
export function backward(output: Tensor, gradOutput?: Tensor, createGraph = false): void {
  const gouts = gradOutput ? [gradOutput] : defaultGradOutputs([output]);
  const leaves = topologicalOrder([output]).filter((t) => !t.node);
  const grads = propagate([output], gouts, createGraph, new Set(leaves));
  withGradMode(createGraph, () => {
    for (const leaf of leaves) {
      const g = grads.get(leaf);
      if (g) leaf.grad = leaf.grad ? leaf.grad.add(g) : g;
    }
  });
}
