// MultiStepLR with the reference's milestone table (PROTOCOL section 5), stepped once
// per epoch: lr = lr0 * gamma^(number of milestones <= completed epochs).

const TABLE: [number, number[]][] = [
  [30, [15, 25]],
  [40, [20, 30]],
  [50, [25, 40]],
  [60, [30, 50]],
  [70, [40, 50, 60]],
  [80, [40, 60, 70]],
  [120, [50, 90, 110]],
  [140, [60, 100, 120]],
  [160, [40, 80, 120, 140]],
  [200, [80, 140, 180]],
];

/** The reference's milestones for a run of totalEpochs epochs. */
export function milestonesFor(totalEpochs: number): number[] {
  for (const [limit, ms] of TABLE) if (totalEpochs <= limit) return ms;
  return [60, 120];
}

/** The learning rate after `completedEpochs` scheduler steps. */
export function multiStepLr(lr0: number, completedEpochs: number, milestones: number[], gamma = 0.1): number {
  const passed = milestones.filter((m) => m <= completedEpochs).length;
  let lr = lr0;
  for (let i = 0; i < passed; i++) lr *= gamma;
  return lr;
}
