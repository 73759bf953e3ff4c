// A ledger lives for years, across deployments: the current code must replay what older code
// recorded. The fixture is the history of a ledger run by the code from before writes were signed
// (grant, reserve, commit, reserve, release, grant; recorded by
// test/fixtures/ledger/record-legacy-history.sh). Replaying it runs no activity and needs no server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto'; // CommonJS: no named exports under ESM
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

const fixture = new URL('../fixtures/ledger/pre-signing-history.json', import.meta.url);
const workflowsPath = fileURLToPath(new URL('../../workflows/ledger/workflow.ts', import.meta.url));

test('a ledger history recorded before writes were signed replays under the current code', async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Installed by another test in this process.
  }
  const { historyProtobufBase64 } = JSON.parse(readFileSync(fixture, 'utf8')) as { historyProtobufBase64: string };
  const history = proto.temporal.api.history.v1.History.decode(Buffer.from(historyProtobufBase64, 'base64'));
  const updates = (history.events ?? []).filter((e) => e.eventType === proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED).length;
  assert.equal(updates, 6, 'the fixture holds the six legacy writes');
  // Throws DeterminismViolationError if the current handlers issue commands the old ones did not.
  await Worker.runReplayHistory({ workflowsPath }, history, 'legacy-ledger');
});
