import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RandomState } from '../../src/data/numpyRandom.ts';
import { attackFeatures, evaluateAttack, trainAttack, type ModelOutputs } from '../../src/privacy/shadowAttack.ts';

test('attack features: softmax sorted in descending order, then 1 if the prediction is correct', () => {
  const x = attackFeatures({ probs: Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.2, 0.3]), labels: Int32Array.from([1, 2]), classes: 3 });
  assert.equal(x.cols, 4);
  assert.deepEqual(
    [...x.data].map((v) => Math.round(v * 1e6) / 1e6),
    [0.7, 0.2, 0.1, 1, 0.5, 0.3, 0.2, 0],
  );
});

// Synthetic outputs of an overfit model: members get a confident correct prediction,
// non-members a less confident one, right 70% of the time.
function outputs(rows: number, member: boolean, rs: RandomState): ModelOutputs {
  const classes = 4;
  const probs = new Float64Array(rows * classes);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    labels[i] = i % classes;
    const top = member ? 0.9 + 0.09 * rs.random() : 0.4 + 0.5 * rs.random();
    const predicted = member || rs.random() < 0.7 ? labels[i] : (labels[i] + 1) % classes;
    for (let c = 0; c < classes; c++) probs[i * classes + c] = c === predicted ? top : (1 - top) / (classes - 1);
  }
  return { probs, labels, classes };
}

test('the attack separates confident members from non-members and counts the spurious rows', () => {
  const rs = new RandomState(0);
  const attack = trainAttack(outputs(400, true, rs), outputs(200, false, rs), rs);
  assert.equal(attack.members, 200, 'balanced: members subsampled to the non-members');
  assert.equal(attack.nonMembers, 200);
  assert.ok(attack.trainAcc > 0.85, `train acc ${attack.trainAcc}`);
  // Target members: rows 0..2 are "spurious" and made as unconfident as non-members.
  const members = outputs(300, true, rs);
  for (let i = 0; i < 3; i++) {
    members.probs.fill(0.25, i * 4, i * 4 + 4);
  }
  const ev = evaluateAttack(attack, members, outputs(100, false, rs), [0, 1, 2], rs);
  assert.equal(ev.members, 100, 'the 3 spurious rows plus 97 others');
  assert.equal(ev.nonMembers, 100);
  assert.equal(ev.spuriousScores.length, 3);
  assert.equal(ev.attackAccSpurious, 0, 'flat outputs look like non-members');
  assert.ok(ev.attackAcc > 0.85 && ev.auc > 0.9, `acc ${ev.attackAcc}, auc ${ev.auc}`);
  assert.ok(ev.tprAt1Fpr >= 0 && ev.tprAt1Fpr <= 1);
  assert.equal(ev.attackAcc, (ev.attackAccMembers * 100 + ev.attackAccNonMembers * 100) / 200);
  assert.equal(ev.tprAt1FprSpurious, 0);
});

test('unbalanced evaluation keeps every member', () => {
  const rs = new RandomState(1);
  const attack = trainAttack(outputs(90, true, rs), outputs(30, false, rs), rs, { balance: false });
  assert.equal(attack.members, 90);
  const ev = evaluateAttack(attack, outputs(90, true, rs), outputs(30, false, rs), [4], rs, { balance: false });
  assert.equal(ev.members, 90);
  assert.equal(ev.nonMembers, 30);
  assert.equal(ev.attackAccSpurious, 1);
});
