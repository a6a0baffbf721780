// The command table: one module per command under this folder.
import type { Command } from '../command.ts';
import { doctorCommand } from './doctor.ts';
import { dataCommand } from './data.ts';
import { modelsCommand } from './models.ts';
import { trainCommand } from './train.ts';
import { scoreCommand } from './score.ts';
import { sweepCommand } from './sweep.ts';
import { resultsCommand } from './results.ts';
import { demoCommand } from './demo.ts';
import { reportCommand } from './report.ts';

export const commands: Command[] = [doctorCommand, dataCommand, modelsCommand, trainCommand, scoreCommand, sweepCommand, resultsCommand, reportCommand, demoCommand];
