// The DP data report (activities/training/data-report.ts), released out of the job's ε: counts come
// unclamped (no upward bias on small counts) with the 95% interval of their noise, and a function's
// total failures, a sum of noisy kinds, with the wider interval of that sum. Kept with the ledger's
// tests because it is a release the ledger pays for; no servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noisyReport, sumOfDiscreteLaplace95 } from '../../activities/training/data-report.ts';
import { discreteLaplace, discreteLaplace95 } from '../../engine/dp/index.ts';
import { SecureStream } from '../../engine/random/secure-stream.ts';
import { emptyFailureCounts } from '../../engine/sandbox/run-summary.ts';

test("a sum of k discrete Laplace draws: one draw's interval for k = 1, and the empirical coverage of the computed interval is 95%", () => {
  for (const scale of [0.5, 2, 40, 400]) assert.equal(sumOfDiscreteLaplace95(scale, 1), discreteLaplace95(scale), `scale ${scale}`);
  const scale = 40;
  const k = 5;
  const t = sumOfDiscreteLaplace95(scale, k);
  assert.ok(t > discreteLaplace95(scale) * 1.5, `a sum of ${k} is wider than one draw (${t})`);
  const rng = SecureStream.fromSeed(5, 'data-report-coverage');
  const draws = 20_000;
  let inside = 0;
  let insideNarrower = 0;
  for (let i = 0; i < draws; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += discreteLaplace(rng, scale);
    if (Math.abs(sum) <= t) inside++;
    if (Math.abs(sum) <= t * 0.9) insideNarrower++;
  }
  // Standard error of a coverage near 0.95 over 20,000 draws: 0.0015.
  assert.ok(Math.abs(inside / draws - 0.95) < 0.006, `coverage ${inside / draws}`);
  assert.ok(insideNarrower / draws < 0.94, `a 10% narrower interval covers less (${insideNarrower / draws})`);
});

test('released counts are unclamped: true zeros come out negative as often as positive, with no upward bias', () => {
  const failures = emptyFailureCounts();
  const exact = { skippedRows: 0, truncatedRows: 0, preprocessing: { steps: [{ kind: 'map', function: { name: 'f', sha256: '0'.repeat(64) }, failures }] } };
  const released: number[] = [];
  for (let i = 0; i < 60; i++) {
    const r = noisyReport(exact, 0.05);
    released.push(r.skippedRows, r.truncatedRows, ...Object.values(r.preprocessing[0].failures!.byKind));
    const kinds = Object.values(r.preprocessing[0].failures!.byKind);
    assert.equal(r.preprocessing[0].failures!.count, kinds.reduce((a, b) => a + b, 0), 'the total is the sum of the released kinds');
  }
  assert.ok(released.some((n) => n < 0), 'some counts are negative: nothing was clamped at 0');
  const mean = released.reduce((a, b) => a + b, 0) / released.length;
  // The noise's standard deviation at scale 2/0.05 = 40 is about 57; over 420 counts the mean's is about 2.8.
  assert.ok(Math.abs(mean) < 12, `mean of released zeros ${mean}: unbiased`);
  const { notice } = noisyReport(exact, 0.05);
  assert.match(notice, new RegExp(`each is within ±${discreteLaplace95(40)} of the true count 95% of the time`));
  assert.match(notice, new RegExp(`a function's failures \\(the sum of its ${Object.keys(failures.byKind).length} kinds\\) within ±${sumOfDiscreteLaplace95(40, Object.keys(failures.byKind).length)}`));
  assert.match(notice, /unclamped/);
});

test('the report carries its intervals as numbers, and the CLI prints each count with its own', async () => {
  const { describeFineTuneResult } = await import('../../clients/cli/job-format.ts');
  const failures = emptyFailureCounts();
  const kinds = Object.keys(failures.byKind).length;
  const exact = { skippedRows: 0, truncatedRows: 3, preprocessing: { steps: [{ kind: 'map', function: { name: 'preprocess', sha256: '0'.repeat(64) }, failures }] } };
  const report = noisyReport(exact, 0.05);
  assert.deepEqual(report.interval95, { count: discreteLaplace95(40), total: sumOfDiscreteLaplace95(40, kinds) });
  const text = describeFineTuneResult({ status: 'completed', message: 'Differentially-private evaluation (epsilon=7.99)', modelId: 'm', jobId: 'm', epsilon: 7.99, delta: 1e-5, steps: 10, trainRows: 100, dataReport: report } as never);
  assert.match(text, new RegExp(`preprocess failed on -?\\d+ \\(±${sumOfDiscreteLaplace95(40, kinds)}, 95%\\)`));
  assert.match(text, new RegExp(`-?\\d+ \\(±${discreteLaplace95(40)}, 95%\\) without text`));
  assert.doesNotMatch(text, /about /);
});
