// The four disjoint parts of a membership-inference experiment (PROTOCOL section 8):
// target-train / shadow-train halves of the training set and target-test / shadow-test
// halves of the test set, drawn with RandomState(seed).
//
// The n spurious examples are those of the spurious data set (the reference's choice
// among the target class, same seed). They must be members of the target model, so they
// are reserved for target-train first, and the rest of both training halves is filled
// from the seeded permutation of the remaining images. Both halves therefore have the
// same size, and the shadow half never sees a patterned image.
import { RandomState } from '../data/numpyRandom.ts';
import { UserError } from '../util/errors.ts';

export interface MembershipSplits {
  targetTrain: Int32Array; // ascending; contains every spurious index
  shadowTrain: Int32Array;
  targetTest: Int32Array;
  shadowTest: Int32Array;
}

export interface SplitLimits {
  /** Training images used in all (both halves together); 0 = every image. */
  train?: number;
  /** Test images used in all; 0 = every image. */
  test?: number;
}

function used(total: number, limit: number | undefined, what: string): number {
  const l = limit ?? 0;
  if (!Number.isInteger(l) || l < 0) throw new UserError(`${what} limit: got ${l}, expected a non-negative integer (0 = all)`);
  return l === 0 ? total : Math.min(l, total);
}

const ascending = (xs: number[]) => Int32Array.from(xs).sort();

export function membershipSplits(
  trainSize: number,
  testSize: number,
  spurious: readonly number[],
  seed: number,
  limits: SplitLimits = {},
): MembershipSplits {
  const rs = new RandomState(seed);
  const trainPerm = rs.permutation(trainSize);
  const testPerm = rs.permutation(testSize);
  const half = Math.floor(used(trainSize, limits.train, 'training') / 2);
  const testHalf = Math.floor(used(testSize, limits.test, 'test') / 2);
  if (half < 1 || testHalf < 1)
    throw new UserError(`membership inference needs at least 2 training and 2 test images, got ${2 * half} and ${2 * testHalf}`);
  const reserved = new Set(spurious);
  if (reserved.size !== spurious.length) throw new RangeError('membership splits: the spurious indices repeat');
  for (const i of spurious)
    if (!(Number.isInteger(i) && i >= 0 && i < trainSize)) throw new RangeError(`membership splits: spurious index ${i} outside 0..${trainSize - 1}`);
  if (spurious.length > half) {
    throw new UserError(`n: got ${spurious.length} spurious examples, more than the target model's half of the training images (${half})`);
  }
  const rest = trainPerm.filter((i) => !reserved.has(i));
  const fill = half - spurious.length;
  return {
    targetTrain: ascending([...spurious, ...rest.slice(0, fill)]),
    shadowTrain: ascending(rest.slice(fill, fill + half)),
    targetTest: ascending(testPerm.slice(0, testHalf)),
    shadowTest: ascending(testPerm.slice(testHalf, 2 * testHalf)),
  };
}
