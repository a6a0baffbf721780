// Runs one command module the way src/cli/main.ts does (parse, run, UserError -> exit
// code and one line), without needing it registered in the command table.
import { parseCommandArgs, type Command } from '../../src/cli/command.ts';
import { UserError } from '../../src/util/errors.ts';

export interface CommandRun {
  code: number;
  out: string[];
  err: string[];
}

export async function runCommandDirect(cmd: Command, argv: string[]): Promise<CommandRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), isTTY: false };
  try {
    return { code: await cmd.run(parseCommandArgs(cmd, argv), io), out, err };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    err.push(`spurlab ${cmd.name}: ${e.message}`);
    return { code: e.exitCode, out, err };
  }
}
