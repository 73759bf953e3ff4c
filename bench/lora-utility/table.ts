// The bench's results as the Markdown table of its README: per size and base, each arm's chosen
// learning rate, trainable parameters, held-out loss and perplexity over the seeds (mean ± sd).
import type { ArmResult } from './arm.ts';

export interface ArmSummary {
  name: string;
  /** Every (lr, validation loss) tried on the tuning seed. */
  grid: { lr: number; validationLoss: number }[];
  /** The runs at the chosen lr, one per seed. */
  runs: ArmResult[];
}

export interface BaseSummary {
  size: string;
  base: string;
  /** The base itself, not fine-tuned. */
  baseTestLoss: number;
  arms: ArmSummary[];
}

function meanSd(values: readonly number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd };
}

const pm = (values: readonly number[], digits: number): string => {
  const { mean, sd } = meanSd(values);
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
};

const lrText = (lr: number): string => lr.toExponential(0);

export function markdownTable(summaries: readonly BaseSummary[]): string {
  const lines = [
    '| size | base | arm | trainable params | lr (grid: validation loss) | ε spent | σ | test loss (mean ± sd) | perplexity | s per run |',
    '| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of summaries) {
    lines.push(`| ${s.size} | ${s.base} | base, not fine-tuned | | | | | ${s.baseTestLoss.toFixed(3)} | ${Math.exp(s.baseTestLoss).toFixed(1)} | |`);
    for (const arm of s.arms) {
      const r = arm.runs;
      const chosen = r[0].lr;
      const grid = arm.grid.map((g) => (g.lr === chosen ? `**${lrText(g.lr)}: ${g.validationLoss.toFixed(3)}**` : `${lrText(g.lr)}: ${g.validationLoss.toFixed(3)}`)).join(', ');
      const eps = Number.isFinite(r[0].epsilon) ? r[0].epsilon.toFixed(2) : '∞';
      const sigma = r[0].noiseMultiplier > 0 ? r[0].noiseMultiplier.toFixed(3) : '0';
      lines.push(
        `| ${s.size} | ${s.base} | ${arm.name} | ${r[0].trainableParams.toLocaleString('en-US')} | ${grid} | ${eps} | ${sigma} | ` +
          `${pm(r.map((x) => x.testLoss), 3)} (n=${r.length}) | ${pm(r.map((x) => Math.exp(x.testLoss)), 2)} | ${meanSd(r.map((x) => x.seconds)).mean.toFixed(0)} |`,
      );
    }
  }
  return lines.join('\n');
}
