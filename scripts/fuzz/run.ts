// Fuzzes the parsers: npm run fuzz -- [--seconds N] [--seed S] [--target NAME ...] [--guided] [--verbose]
// Each target runs for N seconds (default 120) in its own child process, so an
// out-of-memory crash or a hang (killed after N + 60 s) is a finding too. Prints one line
// per target (time, iterations, findings) and each finding's shrunk input, in base64 for
// binary inputs, so it can become a regression test; --verbose lists the kinds of
// refusal each target reached. --guided: coverage-guided mutation of a corpus (guided.ts)
// instead of fresh fast-check inputs. Exits 1 when anything was found.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { guidedFuzz } from './guided.ts';
import { outcomes } from './property.ts';
import { findTarget, TARGETS } from './targets.ts';

interface Report {
  target: string;
  seconds: number;
  iterations: number;
  seed: number;
  parsed: number;
  /** Each kind of refusal seen (numbers and quotes blanked) and how often. */
  refusals: [string, number][];
  /** Guided mode: corpus size and distinct coverage features (block x count bucket). */
  corpus?: number;
  features?: number;
  finding?: { error: string; input: string; path?: string };
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** JSON with typed arrays as {base64}: a counterexample a test can paste. */
function describeInput(v: unknown): string {
  const isBufferJson = (x: unknown): x is { data: number[] } =>
    (x as { type?: unknown })?.type === 'Buffer' && Array.isArray((x as { data?: unknown }).data);
  // Buffers reach the replacer already as {type: 'Buffer', data: [...]} (their toJSON).
  return JSON.stringify(v, (_k, x) =>
    x instanceof Uint8Array
      ? { base64: Buffer.from(x).toString('base64') }
      : isBufferJson(x)
        ? { base64: Buffer.from(x.data).toString('base64') }
        : x,
  );
}

function runGuided(name: string, seconds: number, seed: number): Report {
  const start = performance.now();
  const r = guidedFuzz(findTarget(name), seconds, seed);
  const refusals = [...outcomes.refusals].sort((a, b) => b[1] - a[1]);
  const report: Report = {
    target: name,
    seconds: (performance.now() - start) / 1000,
    iterations: r.iterations,
    seed,
    parsed: outcomes.parsed,
    refusals,
    corpus: r.corpus,
    features: r.features,
  };
  if (r.finding) report.finding = { error: r.finding.error, input: describeInput(r.finding.input) };
  return report;
}

function runChild(name: string, seconds: number, seed: number): Report {
  const t = findTarget(name);
  const start = performance.now();
  const details = fc.check(
    fc.property(t.arbitrary, (input) => t.run(input)),
    { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
  );
  const refusals = [...outcomes.refusals].sort((a, b) => b[1] - a[1]);
  const report: Report = {
    target: name,
    seconds: (performance.now() - start) / 1000,
    iterations: details.numRuns,
    seed,
    parsed: outcomes.parsed,
    refusals,
  };
  if (details.failed) {
    const err = details.errorInstance as Error | undefined;
    report.finding = {
      error: err ? `${err.name}: ${err.message}` : 'unknown',
      input: describeInput(details.counterexample?.[0]),
      path: details.counterexamplePath ?? undefined,
    };
  }
  return report;
}

function main(): number {
  const args = process.argv.slice(2);
  const seconds = Number(option(args, '--seconds') ?? 120);
  const seed = Number(option(args, '--seed') ?? Date.now() % 2 ** 31);
  if (!(seconds > 0) || !Number.isInteger(seed)) throw new Error('usage: fuzz [--seconds N > 0] [--seed INTEGER] [--target NAME ...]');
  const child = option(args, '--child');
  const verbose = args.includes('--verbose');
  if (child) {
    const report = args.includes('--guided') ? runGuided(child, seconds, seed) : runChild(child, seconds, seed);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  const names = args.flatMap((a, i) => (args[i - 1] === '--target' ? [a] : []));
  const targets = names.length > 0 ? names.map(findTarget) : TARGETS;
  const script = fileURLToPath(import.meta.url);
  let found = 0;
  for (const t of targets) {
    const mode = args.includes('--guided') ? ['--guided'] : [];
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', script, '--child', t.name, '--seconds', String(seconds), '--seed', String(seed), ...mode],
      {
        encoding: 'utf8',
        timeout: (seconds + 60) * 1000,
        maxBuffer: 64 << 20,
      },
    );
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      found++;
      process.stdout.write(`${t.name}: CRASH (exit ${r.status}, signal ${r.signal}) seed ${seed}\n${r.stderr.slice(-3000)}\n`);
      continue;
    }
    const rep = JSON.parse(line) as Report;
    const rate = Math.round(rep.iterations / rep.seconds);
    process.stdout.write(
      `${t.name}: ${rep.seconds.toFixed(0)} s, ${rep.iterations} inputs (${rate}/s; ${rep.parsed} parsed, ${rep.refusals.length} kinds of refusal` +
        `${rep.corpus !== undefined ? `; corpus ${rep.corpus}, ${rep.features} coverage features` : ''}), ` +
        `seed ${seed}: ${rep.finding ? 'FINDING' : 'no findings'}  [${t.what}]\n`,
    );
    if (verbose) for (const [kind, n] of rep.refusals) process.stdout.write(`    ${n}  ${kind}\n`);
    if (rep.finding) {
      found++;
      process.stdout.write(`  ${rep.finding.error}\n  input: ${rep.finding.input}\n  replay: --seed ${seed} (path ${rep.finding.path})\n`);
    }
  }
  return found > 0 ? 1 : 0;
}

process.exitCode = main();
