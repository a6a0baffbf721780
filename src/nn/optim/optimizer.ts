// Optimizers with torch.optim semantics on top of the fused update kernels.
import { kernels } from '../../backend/registry.ts';
import { type Tensor, zeros } from '../../tensor/tensor.ts';
import { UserError } from '../../util/errors.ts';

export interface Optimizer {
  lr: number;
  readonly name: 'adam' | 'sgd';
  /** Applies one update from each parameter's .grad (parameters without a gradient are skipped). */
  step(): void;
  /** Named state tensors for checkpoints, e.g. "3.exp_avg". */
  stateTensors(): Map<string, Tensor>;
  /** Scalars of the state (step counts), for checkpoint metadata. */
  stateScalars(): Record<string, number>;
  loadState(tensors: Map<string, Tensor>, scalars: Record<string, number>): void;
}

export interface AdamOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  clip?: number;
}

export class Adam implements Optimizer {
  readonly name = 'adam' as const;
  lr: number;
  private readonly m: Tensor[];
  private readonly v: Tensor[];
  private steps = 0;

  constructor(
    private readonly params: Tensor[],
    private readonly opts: AdamOptions,
  ) {
    this.lr = opts.lr;
    this.m = params.map((p) => zeros(p.shape, p.dtype));
    this.v = params.map((p) => zeros(p.shape, p.dtype));
  }

  step(): void {
    this.steps++;
    const [beta1, beta2] = this.opts.betas ?? [0.9, 0.999];
    const args = {
      lr: this.lr,
      beta1,
      beta2,
      eps: this.opts.eps ?? 1e-8,
      weightDecay: this.opts.weightDecay ?? 0,
      step: this.steps,
      clip: this.opts.clip ?? 0,
    };
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      kernels(p.dtype).adamUpdate(p.data, p.grad.values(), this.m[i].data, this.v[i].data, args);
    });
  }

  stateTensors(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    this.params.forEach((_, i) => {
      out.set(`${i}.exp_avg`, this.m[i]);
      out.set(`${i}.exp_avg_sq`, this.v[i]);
    });
    return out;
  }

  stateScalars(): Record<string, number> {
    return { step: this.steps, lr: this.lr };
  }

  loadState(tensors: Map<string, Tensor>, scalars: Record<string, number>): void {
    this.params.forEach((_, i) => {
      copyInto(this.m[i], tensors.get(`${i}.exp_avg`), `${i}.exp_avg`);
      copyInto(this.v[i], tensors.get(`${i}.exp_avg_sq`), `${i}.exp_avg_sq`);
    });
    this.steps = scalars.step ?? 0;
    this.lr = scalars.lr ?? this.lr;
  }
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  clip?: number;
}

export class SGD implements Optimizer {
  readonly name = 'sgd' as const;
  lr: number;
  private readonly buf: Tensor[];
  private readonly hasBuf: boolean[];

  constructor(
    private readonly params: Tensor[],
    private readonly opts: SgdOptions,
  ) {
    this.lr = opts.lr;
    this.buf = params.map((p) => zeros(p.shape, p.dtype));
    this.hasBuf = params.map(() => false);
  }

  step(): void {
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      kernels(p.dtype).sgdUpdate(p.data, p.grad.values(), this.buf[i].data, {
        lr: this.lr,
        momentum: this.opts.momentum ?? 0,
        dampening: this.opts.dampening ?? 0,
        weightDecay: this.opts.weightDecay ?? 0,
        nesterov: this.opts.nesterov ?? false,
        firstStep: !this.hasBuf[i],
        clip: this.opts.clip ?? 0,
      });
      this.hasBuf[i] = true;
    });
  }

  stateTensors(): Map<string, Tensor> {
    return new Map(this.buf.map((b, i) => [`${i}.momentum_buffer`, b]));
  }

  stateScalars(): Record<string, number> {
    return { lr: this.lr, hasBuffer: this.hasBuf.every(Boolean) ? 1 : 0 };
  }

  loadState(tensors: Map<string, Tensor>, scalars: Record<string, number>): void {
    this.buf.forEach((b, i) => copyInto(b, tensors.get(`${i}.momentum_buffer`), `${i}.momentum_buffer`));
    this.hasBuf.fill(scalars.hasBuffer === 1);
    this.lr = scalars.lr ?? this.lr;
  }
}

function copyInto(dst: Tensor, src: Tensor | undefined, name: string): void {
  if (!src || src.size !== dst.size) throw new UserError(`optimizer state "${name}" is missing or has the wrong size (expected ${dst.size} values)`);
  dst.data.set(src.values());
}
