// spurlab's command-line entry: finds the command, parses its options, turns user
// errors into one line and exit code 2.
import { closest, commandHelp, parseCommandArgs, type CliIo, type Command } from './command.ts';
import { userFacingError } from '../util/errors.ts';

function helpText(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = ['usage: spurlab <command> [options]   (spurlab <command> --help for details)', '', 'commands:'];
  for (const c of commands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  return lines.join('\n');
}

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((a) => a !== '--debug');
  const [name, ...rest] = args;
  // --version answers before the command table (and everything it imports) is loaded
  if (name === '--version' || name === '-V') {
    const { version } = await import('../version.ts');
    io.out(version);
    return 0;
  }
  const { commands } = await import('./commands/index.ts');
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(helpText(commands));
    return name ? 0 : 1;
  }
  const cmd: Command | undefined = commands.find((c) => c.name === name);
  if (!cmd) {
    const guess = closest(
      name,
      commands.map((c) => c.name),
    );
    io.err(
      `spurlab: unknown command "${name}"${guess ? `; did you mean "${guess}"?` : ''} (expected one of: ${commands.map((c) => c.name).join(', ')})`,
    );
    return 2;
  }
  const helpAt = rest.findIndex((a) => a === '--help' || a === '-h');
  if (helpAt >= 0 && !rest.slice(0, helpAt).includes('--')) {
    io.out(commandHelp(cmd));
    return 0;
  }
  try {
    return await cmd.run(parseCommandArgs(cmd, rest), io);
  } catch (e) {
    const user = userFacingError(e);
    if (user) {
      io.err(`spurlab ${name}: ${user.message}`);
      if (debug) io.err((e as Error).stack ?? '');
      return user.exitCode;
    }
    io.err(`spurlab ${name}: internal error: ${(e as Error).message ?? e}`);
    if (debug) io.err((e as Error).stack ?? '');
    else io.err('(run again with --debug for the stack trace)');
    return 1;
  }
}

function defaultIo(): CliIo {
  // `spurlab runs export ... | head` closes the pipe early: that ends the output, not an error
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    isTTY: Boolean(process.stderr.isTTY),
  };
}
