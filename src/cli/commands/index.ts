// The command table: one module per command under this folder.
import type { Command } from '../command.ts';
import { demoCommand } from './demo.ts';
import { dataCommand } from './data.ts';
import { modelsCommand } from './models.ts';
import { trainCommand } from './train.ts';
import { scoreCommand } from './score.ts';
import { sweepCommand } from './sweep.ts';
import { reproduceCommand } from './reproduce.ts';
import { resultsCommand } from './results.ts';
import { reportCommand } from './report.ts';
import { forgetCommand } from './forget.ts';
import { influenceCommand } from './influence.ts';
import { detectCommand } from './detect.ts';
import { miaCommand } from './mia.ts';
import { liraCommand } from './lira.ts';
import { sensitivityCommand } from './sensitivity.ts';
import { weightsCommand } from './weights.ts';
import { workerCommand } from './worker.ts';
import { runIndexCommand } from './runIndex.ts';
import { collectCommand } from './collect.ts';
import { doctorCommand } from './doctor.ts';
import { runsCommand } from './runs.ts';

export const commands: Command[] = [
  demoCommand,
  dataCommand,
  modelsCommand,
  trainCommand,
  scoreCommand,
  sweepCommand,
  reproduceCommand,
  resultsCommand,
  runsCommand,
  reportCommand,
  forgetCommand,
  influenceCommand,
  detectCommand,
  miaCommand,
  liraCommand,
  sensitivityCommand,
  weightsCommand,
  workerCommand,
  runIndexCommand,
  collectCommand,
  doctorCommand,
];
