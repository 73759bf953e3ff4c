// What the SDK prints while a job runs, the CLI's words: "queued" while an activity waits for a
// worker slot, then training step, ε and ETA; and where a model's weights started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressLines, describeActivity } from '../../clients/sdk/progress.ts';
import { describeBaseModel } from '../../clients/sdk/notebook.ts';
import { describeFineTuneResult } from '../../clients/cli/job-format.ts';
import type { JobActivity } from '../../clients/sdk/jobs/index.ts';
import type { FineTuneResult } from '../../contracts/fine-tune.ts';

const activity = (over: Partial<JobActivity>): JobActivity => ({ activity: 'train', attempt: 1, progress: null, lastHeartbeatAt: null, lastFailure: null, queued: false, ...over });
const progress = (step: number, epsilon: number) => ({ step, totalSteps: 10, loss: null, epsilon, checkpointStep: null });

test('a train activity no worker has started is queued; then step, ε (two decimals) and ETA', () => {
  let now = 0;
  const lines = new ProgressLines(10_000, () => now);
  assert.match(lines.next(activity({ queued: true }))!, /^queued: training waits for a free worker slot/);
  assert.equal(lines.next(activity({ queued: true })), null, 'said once');
  assert.equal(lines.next(activity({ progress: progress(1, 1.234) })), 'training: step 1/10, ε 1.23, ETA ?');
  now = 5_000;
  assert.equal(lines.next(activity({ progress: progress(2, 2) })), null, 'at most every 10 s');
  now = 10_000;
  assert.equal(lines.next(activity({ progress: progress(3, 3) })), 'training: step 3/10, ε 3.00, ETA 35s');
  now = 11_000;
  assert.equal(lines.next(activity({ progress: progress(10, 4.5) })), 'training: step 10/10, ε 4.50, ETA 0s', 'the last step always shows');
  assert.equal(describeActivity(activity({ activity: 'generateSamples', queued: true })), 'queued: generating waits for a free worker slot');
  assert.equal(describeActivity(activity({ activity: 'evaluateModel' })), 'evaluating (DP-released test loss)');
});

test("results say where the weights started: random only when asked, pretrained, or the analyst's model", () => {
  assert.match(describeBaseModel('random:tiny'), /random weights \(random:tiny/);
  assert.match(describeBaseModel('tiny'), /random weights \(random:tiny/);
  assert.match(describeBaseModel('gpt2-xl'), /pretrained gpt2-xl/);
  assert.match(describeBaseModel('models/abc'), /your model models\/abc/);
  const result = { status: 'completed', message: 'Differentially-private evaluation (epsilon=7.99): test loss 2.5', modelId: 'm1', epsilon: 7.987, delta: 1e-5, steps: 3, trainRows: 90, dataReport: null, baseModel: { base: 'random:tiny', initialization: 'random' } } as unknown as FineTuneResult;
  assert.match(describeFineTuneResult(result), /model m1 \(ε=7\.99, δ=0\.0000100, 3 steps on 90 rows\), trained from random weights/);
});
