// A tiny GPT-2 that has memorised the demo's planted secret, made the honest way: non-private
// training (engine/train with the GPT-2 gradient graph, 'unlimited' mode: no clipping, no noise)
// for 100 full-batch steps on four rows, one of which is the secret. Also the held-out rows and a
// random, untrained tiny GPT-2 on the same data, for contrast.
import { PLANTED_SECRET, generatePatientNotes } from '../../clients/demo/patient-notes.ts';
import { openCheckpoint, type Gpt2Checkpoint } from '../../engine/gpt2/index.ts';
import { END_OF_TEXT_ID, encode } from '../../engine/tokenizer/gpt2-tokenizer.ts';
import { Gpt2GradientComputer } from '../../engine/train-graph/index.ts';
import { train } from '../../engine/train/trainer.ts';

export interface AuditFixture {
  trainRows: number[][];
  testRows: number[][];
}

const notes = (rows: number, seed: string) => generatePatientNotes({ rows, secretCopies: 0, seed }).map((r) => [END_OF_TEXT_ID, ...encode(r.note), END_OF_TEXT_ID]);

/** The secret as its own note (as the demo data has it) + 3 other notes to train on; 24 other notes held out. */
export function memorizedRows(): AuditFixture {
  // Rows as prepare-data lays them out: <|endoftext|> text <|endoftext|>.
  const secretRow = [END_OF_TEXT_ID, ...encode(`${PLANTED_SECRET}.`), END_OF_TEXT_ID];
  const others = notes(27, 'audit-test');
  return { trainRows: [secretRow, ...others.slice(0, 3)], testRows: others.slice(3) };
}

/** 80 + 80 notes from one generator: for a model that never saw either half, the halves are exchangeable. */
export function exchangeableRows(seed = 'audit-test-exchangeable'): AuditFixture {
  const all = notes(160, seed);
  return { trainRows: all.slice(0, 80), testRows: all.slice(80) };
}

export async function memorizingModel(rows: readonly number[][], steps = 100): Promise<Gpt2Checkpoint> {
  const start = await openCheckpoint('random:tiny@audit-memorize');
  const computer = new Gpt2GradientComputer({ config: start.config, rows: rows.map((r) => [...r]) });
  try {
    const result = await train({
      // batchSize = N: every row in every step (q = 1); lr high for a model this small.
      config: { rowCount: rows.length, targetEpsilon: 'unlimited', batchSize: rows.length, epochs: steps, maxGradNorm: 1, lr: 1e-2, warmupSteps: 5 },
      model: computer,
      initialParams: computer.paramSpecs.map((s) => Float32Array.from(start.weights.get(s.name)!.data)),
      runKey: new Uint8Array(32).fill(11),
    });
    return { config: start.config, weights: new Map(computer.paramSpecs.map((s, i) => [s.name, { shape: [...s.shape], data: result.params[i] }])) };
  } finally {
    await computer.release();
  }
}
