// A run slot's child process: runs the runs (of any kind) its worker sends over IPC, one at a time.
// Training is synchronous and would block the worker's event loop, so BullMQ could not
// renew its job locks and would hand the job to another worker; here it blocks only
// this process. Data sets stay cached between runs of one child.
import { runDetached } from './execute.ts';
import { UserError } from '../util/errors.ts';
import type { SlotReply, SlotRequest } from './jobs.ts';
import { encodePerImage } from './jobs.ts';
import { exitWhenParentDies } from './parentWatch.ts';

function send(reply: SlotReply): void {
  process.send?.(reply);
}

// The worker died (even by SIGKILL): its jobs go back to the queue, so stop computing,
// between runs on the IPC channel's end, during one (the main thread is busy) by the watcher.
process.on('disconnect', () => process.exit(0));
exitWhenParentDies(process.ppid, 'run slot of a spurlab worker');

process.on('message', (msg: SlotRequest) => {
  if (msg.type !== 'run') return;
  const t0 = performance.now();
  runDetached({
    kind: msg.kind,
    config: msg.config,
    key: msg.key,
    artifactsDir: msg.artifactsDir,
    dataDir: msg.dataDir,
    inputs: msg.inputs,
    events: { onEpoch: (_phase, r) => send({ type: 'epoch', id: msg.id, epoch: r.epoch }) },
  }).then(
    ({ result, perImage, resumedFromEpoch }) =>
      send({
        type: 'done',
        id: msg.id,
        result,
        perImage: perImage ? encodePerImage(perImage) : null,
        seconds: (performance.now() - t0) / 1000,
        resumedFromEpoch: resumedFromEpoch ?? 0,
      }),
    (e: unknown) => send({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e), userError: e instanceof UserError }),
  );
});
