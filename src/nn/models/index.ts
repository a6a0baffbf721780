// The model registry: every architecture of the paper by its reference name.
import type { RandomSource } from '../../tensor/tensor.ts';
import { UserError } from '../../util/errors.ts';
import type { Module } from '../module.ts';
import { MLP } from './mlp.ts';
import { CNN002 } from './cnn.ts';
import { ResNet } from './resnet.ts';
import { VGG16 } from './vgg.ts';

export interface InputInfo {
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

export interface ModelSpec {
  name: string;
  aliases: string[];
  description: string;
  /** 'flat': the HWC image flattened to [B, H*W*C]; 'nchw': [B, C, H, W]. */
  layout: 'flat' | 'nchw';
  /** The input size the architecture needs, if fixed. */
  needs?: { height: number; width: number };
  create(info: InputInfo, rng: RandomSource): Module;
}

const mlp = (name: string, widths: number[]): ModelSpec => ({
  name,
  aliases: [],
  description: `MLP ${['in', ...widths, 'classes'].join('-')}, ReLU`,
  layout: 'flat',
  create: (i, rng) => new MLP(i.height * i.width * i.channels, widths, i.numClasses, rng),
});

const resnet = (depth: number, blocks: number, norm: boolean): ModelSpec => ({
  name: `ResNet${depth}${norm ? 'Norm02' : ''}`,
  aliases: [`altResNet${depth}${norm ? 'Norm02' : ''}`],
  description: `CIFAR ResNet-${depth} (option A)${norm ? ', CIFAR input normalisation' : ''}`,
  layout: 'nchw',
  create: (i, rng) => new ResNet(blocks, i.numClasses, rng, norm, i.channels),
});

export const MODELS: ModelSpec[] = [
  mlp('MLP', [256]),
  mlp('MLPv2', [256, 256]),
  mlp('LargeMLP', [256, 256, 256]),
  mlp('LargeMLPv2', [512, 512, 512]),
  {
    name: 'CNN002',
    aliases: [],
    description: 'small CNN: 4 conv3x3 (32,32,64,64), 2 max-pools, fc 1024-200-200-classes, dropout 0.5',
    layout: 'nchw',
    needs: { height: 28, width: 28 },
    create: (i, rng) => new CNN002(i.channels, i.numClasses, rng),
  },
  resnet(20, 3, false),
  resnet(20, 3, true),
  resnet(32, 5, false),
  resnet(32, 5, true),
  resnet(110, 18, false),
  resnet(110, 18, true),
  {
    name: 'Vgg16Norm02',
    aliases: [],
    description: "VGG-16 without batch norm (as the reference's code builds it), CIFAR input normalisation",
    layout: 'nchw',
    create: (i, rng) => new VGG16(i.numClasses, rng, false, i.channels),
  },
  {
    name: 'Vgg16BNNorm02',
    aliases: [],
    description: 'VGG-16 with batch norm (the protocol text), CIFAR input normalisation',
    layout: 'nchw',
    create: (i, rng) => new VGG16(i.numClasses, rng, true, i.channels),
  },
];

export function findModel(name: string): ModelSpec {
  const key = name.toLowerCase();
  const spec = MODELS.find((m) => m.name.toLowerCase() === key || m.aliases.some((a) => a.toLowerCase() === key));
  if (!spec) throw new UserError(`unknown model "${name}", expected one of: ${MODELS.map((m) => m.name).join(', ')}`);
  return spec;
}

export function createModel(name: string, info: InputInfo, rng: RandomSource): Module {
  const spec = findModel(name);
  if (spec.needs && (spec.needs.height !== info.height || spec.needs.width !== info.width)) {
    throw new UserError(`model ${spec.name} needs ${spec.needs.height}x${spec.needs.width} images, the data set has ${info.height}x${info.width}`);
  }
  return spec.create(info, rng);
}
