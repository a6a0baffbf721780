// `spurlab doctor`: version, backend, threads, and the engine's self-check.
import type { Command } from '../command.ts';
import { flag } from '../command.ts';
import { backendSummary, runSelfCheck } from '../../diagnostics/selfcheck.ts';
import { version } from '../../version.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Print version and backend, and run the engine self-check (gradients, HVP, backend agreement).',
  usage: 'spurlab doctor [--json]',
  options: { json: { type: 'boolean', help: 'print the report as one JSON line' } },
  example: 'SPURLAB_BACKEND=ref spurlab doctor',
  async run(args, io) {
    const { backend, threads, description } = backendSummary();
    const checks = runSelfCheck();
    const ok = checks.every((c) => c.ok);
    if (flag(args, 'json')) {
      io.out(JSON.stringify({ version, backend, threads, checks }));
    } else {
      io.out(`spurlab ${version}`);
      io.out(`backend: ${description}`);
      for (const c of checks) {
        io.out(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}  (max rel. error ${c.maxRelErr.toExponential(2)})${c.detail ? `: ${c.detail}` : ''}`);
      }
      io.out(ok ? 'all checks passed' : 'some checks FAILED');
    }
    return ok ? 0 : 1;
  },
};
