// Modules: named parameters and buffers in registration order (PyTorch's state_dict
// names, so checkpoints interoperate), children, and train/eval mode.
import type { Tensor } from '../tensor/tensor.ts';

export abstract class Module {
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  protected param(name: string, t: Tensor): Tensor {
    t.requireGrad();
    this.ownParams.set(name, t);
    return t;
  }

  protected buffer(name: string, t: Tensor): Tensor {
    this.ownBuffers.set(name, t);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** [name, module] for this module and every descendant, depth first. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.children) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.namedModules().flatMap(([p, m]) => [...m.ownParams].map(([n, t]): [string, Tensor] => [p ? `${p}.${n}` : n, t]));
  }

  namedBuffers(): [string, Tensor][] {
    return this.namedModules().flatMap(([p, m]) => [...m.ownBuffers].map(([n, t]): [string, Tensor] => [p ? `${p}.${n}` : n, t]));
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  parameterCount(): number {
    return this.parameters().reduce((s, t) => s + t.size, 0);
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and buffers by name (PyTorch state_dict order). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }
}

/** Applies children in order; names are "0", "1", ... unless given. */
export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(layers: (Module | [string, Module])[]) {
    super();
    layers.forEach((l, i) => {
      const [name, m] = Array.isArray(l) ? l : [String(i), l];
      this.layers.push(this.child(name, m));
    });
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }
}
