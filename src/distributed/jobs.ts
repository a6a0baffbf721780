// What travels through the queue: a run's job (its configuration and where its
// artifacts go) and what a worker returns (the result, the per-image indicator as
// base64, and who computed it with which code).
import type { RunResult } from '../experiments/runner.ts';
import type { TrainConfig } from '../train/config.ts';
import { UserError } from '../util/errors.ts';

export interface RunJobData {
  key: string; // configKey(config): also the job id, so a run is enqueued at most once
  config: TrainConfig;
  codeVersion: string; // the coordinator's; a worker with another version refuses the job
  sweep: string;
  artifactsDir: string | null; // shared directory for checkpoints; null: --no-artifacts
  dataDir?: string;
}

export interface RunJobReturn {
  result: RunResult;
  perImage: string; // base64 of the 0/1 indicator bytes
  codeVersion: string;
  host: string;
  pid: number;
  seconds: number; // wall time of the run on the worker
}

/** What a pool child is asked to do, and what it answers. */
export interface SlotRequest {
  type: 'run';
  id: number;
  config: TrainConfig;
  artifactDir?: string;
  dataDir?: string;
}

export type SlotReply =
  | { type: 'done'; id: number; result: RunResult; perImage: string; seconds: number; resumedFromEpoch: number }
  | { type: 'error'; id: number; message: string; userError: boolean }
  | { type: 'epoch'; id: number; epoch: number };

export const VERSION_MISMATCH = 'code version mismatch';

export function versionMismatchMessage(coordinator: string, worker: string): string {
  return `${VERSION_MISMATCH}: the coordinator enqueued this run with spurlab ${coordinator}, this worker runs ${worker}; update the worker's copy of spurlab (or re-enqueue from the same code) so both compute the same thing`;
}

export function encodePerImage(perImage: Uint8Array): string {
  return Buffer.from(perImage.buffer, perImage.byteOffset, perImage.byteLength).toString('base64');
}

/** Decodes and checks a base64 0/1 indicator; `where` names its source in errors. */
export function decodePerImage(text: unknown, where: string): Uint8Array {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new UserError(`${where}: "perImage" is not base64 text`);
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  const bad = bytes.findIndex((b) => b > 1);
  if (bad >= 0) throw new UserError(`${where}: "perImage" has value ${bytes[bad]} at image ${bad}; expected 0 or 1`);
  return bytes;
}
