// A run slot's child process: trains the runs its worker sends over IPC, one at a time.
// Training is synchronous and would block the worker's event loop, so BullMQ could not
// renew its job locks and would hand the job to another worker; here it blocks only
// this process. Data sets stay cached between runs of one child.
import { runExperiment } from '../experiments/runner.ts';
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
  runExperiment(msg.config, {
    dataDir: msg.dataDir,
    artifactDir: msg.artifactDir,
    events: { onEpoch: (r) => send({ type: 'epoch', id: msg.id, epoch: r.epoch }) },
  }).then(
    ({ result, perImage, resumedFromEpoch }) => send({ type: 'done', id: msg.id, result, perImage: encodePerImage(perImage), seconds: (performance.now() - t0) / 1000, resumedFromEpoch }),
    (e: unknown) => send({ type: 'error', id: msg.id, message: e instanceof Error ? e.message : String(e), userError: e instanceof UserError }),
  );
});
