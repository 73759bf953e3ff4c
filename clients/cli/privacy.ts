// `veil privacy …`: privacy accounting for DP-SGD from the command line. Each command prints
// one JSON object on stdout; bad input exits with code 2 and a message naming the argument.
import { Command } from 'commander';
import {
  calibrateNoise,
  checkDelta,
  checkEpsilon,
  checkNoiseMultiplier,
  checkPositive,
  checkSampleRate,
  checkSteps,
  createAccountant,
  parseAccountantKind,
  PrivacyInputError,
  type PrvOptions,
} from '../../engine/privacy/index.ts';

interface CommonOptions {
  accountant?: string;
  sampleRate?: string;
  steps?: string;
  delta?: string;
  epsError?: string;
}

const ACCOUNTANT_HELP = "rdp (Opacus's RDP numbers) or prv (tight bound, Gopi et al. 2021); pld is not built";

function prvOptions(opts: CommonOptions): PrvOptions | undefined {
  return opts.epsError === undefined ? undefined : { epsilonError: checkPositive(opts.epsError, '--eps-error') };
}

/** Runs engine code, renaming its camelCase argument names in errors to the CLI's flags. */
function asFlags<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof PrivacyInputError) throw err.renamed(`--${err.argument.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    throw err;
  }
}

function jsonLine(value: Record<string, number>): string {
  for (const [key, number] of Object.entries(value)) {
    if (!Number.isFinite(number)) throw new Error(`internal error: ${key} is ${number}`);
  }
  return `${JSON.stringify(value)}\n`;
}

/** `write` receives each command's stdout (tests pass their own). */
export function registerPrivacyCommands(program: Command, write: (text: string) => void = (text) => process.stdout.write(text)): void {
  const privacy = program
    .command('privacy')
    .description('Privacy accounting for DP-SGD with Poisson sampling and Gaussian noise (ε for a run, σ for a target ε)');

  privacy
    .command('epsilon')
    .description('Print {"epsilon": E}: the ε spent by STEPS steps at sampling rate Q and noise multiplier S, at δ = D')
    .option('--accountant <name>', ACCOUNTANT_HELP, 'rdp')
    .option('--sample-rate <q>', 'Poisson sampling rate, in (0, 1]')
    .option('--noise-multiplier <sigma>', 'noise standard deviation over the clipping norm, > 0')
    .option('--steps <n>', 'number of steps, an integer ≥ 1')
    .option('--delta <d>', 'δ, in (0, 1)')
    .option('--eps-error <e>', 'prv only: allowed error in ε (the report is an upper bound within 2e of the truth)', '0.01')
    .action((opts: CommonOptions & { noiseMultiplier?: string }) => {
      const kind = parseAccountantKind(opts.accountant, '--accountant');
      const q = checkSampleRate(opts.sampleRate, '--sample-rate');
      const sigma = checkNoiseMultiplier(opts.noiseMultiplier, '--noise-multiplier');
      const steps = checkSteps(opts.steps, '--steps');
      const delta = checkDelta(opts.delta, '--delta');
      const accountant = createAccountant(kind, { prv: prvOptions(opts) });
      accountant.step(q, sigma, steps);
      write(jsonLine({ epsilon: asFlags(() => accountant.epsilon(delta)) }));
    });

  privacy
    .command('noise')
    .description('Print {"noiseMultiplier": S, "epsilon": E}: the smallest σ (within the tolerance) whose ε ≤ the target, and its ε')
    .option('--accountant <name>', ACCOUNTANT_HELP, 'rdp')
    .option('--target-epsilon <e>', 'the ε to stay within, > 0')
    .option('--sample-rate <q>', 'Poisson sampling rate, in (0, 1]')
    .option('--steps <n>', 'number of steps, an integer ≥ 1')
    .option('--delta <d>', 'δ, in (0, 1)')
    .option('--tolerance <t>', 'accept σ once target − t ≤ ε(σ) ≤ target (as Opacus\'s epsilon_tolerance)', '0.01')
    .option('--eps-error <e>', 'prv only: allowed error in ε', '0.01')
    .action((opts: CommonOptions & { targetEpsilon?: string; tolerance?: string }) => {
      const kind = parseAccountantKind(opts.accountant, '--accountant');
      const targetEpsilon = checkEpsilon(opts.targetEpsilon, '--target-epsilon');
      const sampleRate = checkSampleRate(opts.sampleRate, '--sample-rate');
      const steps = checkSteps(opts.steps, '--steps');
      const delta = checkDelta(opts.delta, '--delta');
      const tolerance = checkPositive(opts.tolerance, '--tolerance');
      const prv = prvOptions(opts);
      const result = asFlags(() => calibrateNoise({ accountant: kind, targetEpsilon, sampleRate, steps, delta, tolerance, prv }));
      write(jsonLine({ noiseMultiplier: result.noiseMultiplier, epsilon: result.epsilon }));
    });
}
