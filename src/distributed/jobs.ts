// What travels through the queue: a run's job (its kind, its configuration as the kind
// normalizes it, and where its artifacts go) and what a worker returns (the result, the
// per-image indicator as base64 if the kind has one, and who computed it with which
// code). The receiving side checks both through the kind's declaration.
import { UserError } from '../util/errors.ts';

export interface RunJobData {
  key: string; // the run's store key: also the job id, so a run is enqueued at most once
  kind: string;
  config: object;
  codeVersion: string; // the coordinator's; a worker with another version refuses the job
  sweep: string;
  artifactsDir: string | null; // shared directory for checkpoints; null: --no-artifacts
  dataDir?: string;
  /** Results of the runs of other kinds this run reads (its kind's inputs), by key: the coordinator sends them from the store. */
  inputs?: Record<string, object>;
}

export interface RunJobReturn {
  kind: string;
  result: object;
  perImage: string | null; // base64 of the 0/1 indicator bytes (kinds that score per image)
  codeVersion: string;
  host: string;
  pid: number;
  seconds: number; // wall time of the run on the worker
}

/** What a pool child is asked to do, and what it answers. */
export interface SlotRequest {
  type: 'run';
  id: number;
  kind: string;
  config: object;
  key: string;
  /** The shared artifacts directory: this run's is <dir>/<key>, a dependency's <dir>/<its key>. */
  artifactsDir?: string;
  dataDir?: string;
  inputs?: Record<string, object>;
}

export type SlotReply =
  | { type: 'done'; id: number; result: object; perImage: string | null; seconds: number; resumedFromEpoch: number }
  | { type: 'error'; id: number; message: string; userError: boolean }
  | { type: 'epoch'; id: number; epoch: number };

/** A few words naming a job in a worker's log (a job of older code may lack fields). */
export function describeJob(data: RunJobData): string {
  const c = data.config as Record<string, unknown>;
  return `${data.kind ?? 'train'} ${String(c.dataset)} ${String(c.pattern)} n=${String(c.n)} seed=${String(c.seed)} ${String(c.model)}`;
}

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
