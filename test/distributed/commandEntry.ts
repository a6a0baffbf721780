// Runs one of the distributed commands by module, for child processes spawned by the
// tests while the command table (src/cli/commands/index.ts) may not list them yet.
import { parseCommandArgs, type Command } from '../../src/cli/command.ts';
import { UserError } from '../../src/util/errors.ts';
import { collectCommand } from '../../src/cli/commands/collect.ts';
import { runIndexCommand } from '../../src/cli/commands/runIndex.ts';
import { sweepCommand } from '../../src/cli/commands/sweep.ts';
import { workerCommand } from '../../src/cli/commands/worker.ts';

const table: Command[] = [collectCommand, runIndexCommand, sweepCommand, workerCommand];
const [name, ...rest] = process.argv.slice(2);
const cmd = table.find((c) => c.name === name);
if (!cmd) throw new Error(`commandEntry: unknown command ${name}`);
const io = { out: (l: string) => process.stdout.write(l + '\n'), err: (l: string) => process.stderr.write(l + '\n'), isTTY: false };
try {
  process.exitCode = await cmd.run(parseCommandArgs(cmd, rest), io);
} catch (e) {
  if (!(e instanceof UserError)) throw e;
  io.err(`spurlab ${name}: ${e.message}`);
  process.exitCode = e.exitCode;
}
