// What every CLI command module exports. Options are declared as data (node:util
// parseArgs specs) so the help text and the parser share one source.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../util/errors.ts';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface CliIo {
  out: (line: string) => void; // stdout, one line
  err: (line: string) => void; // stderr, one line
  isTTY: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string; // e.g. "spurlab doctor [--json]"
  options: OptionSpecs;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: cmd.options, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    throw new UserError(`${cmd.name}: ${(e as Error).message}\nusage: ${cmd.usage}`);
  }
}

/** Reads a numeric option, with a clear error naming the option and the value. */
export function numberOption(args: ParsedArgs, name: string, fallback: number, check?: (v: number) => boolean, expected = 'a number'): number {
  const raw = args.values[name];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(v) || (check && !check(v))) {
    throw new UserError(`--${name}: got ${JSON.stringify(raw)}, expected ${expected}`);
  }
  return v;
}

export function stringOption(args: ParsedArgs, name: string, fallback?: string): string | undefined {
  const raw = args.values[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string') throw new UserError(`--${name}: expected a value`);
  return raw;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
