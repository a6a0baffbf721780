// The command table: one module per command under this folder.
import type { Command } from '../command.ts';
import { doctorCommand } from './doctor.ts';

export const commands: Command[] = [doctorCommand];
