// `veil access` end to end on the real servers: an operator creates principals, the owner ingests
// and grants with their token, the analyst reads their budget, signs an input for the Temporal UI,
// and loses access when revoked. The CLI runs as child processes; in-process workers serve them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { LedgerBalance } from '../../clients/sdk/budget.ts';
import type { Principal } from '../../infra/access/index.ts';
import { describeRun, jsonOf, runVeil } from '../cli/harness.ts';
import { uniqueName } from '../helpers/names.ts';
import { connectTestEnvironment, withWorker } from '../helpers/temporal.ts';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await connectTestEnvironment();
});
after(async () => {
  await env?.teardown();
});

/** The failure type of a workflow that an activity failed (the authorization, or what follows it). */
async function failureType(run: Promise<unknown>): Promise<{ type?: string; message: string }> {
  const err = await run.then(() => assert.fail('completed'), (e: unknown) => e);
  assert.ok(err instanceof WorkflowFailedError, String(err));
  const cause = err.cause?.cause as (Error & { type?: string }) | undefined;
  return { type: cause?.type, message: String(cause?.message) };
}

test('principals, grants, UI-signed inputs and revocation through `veil access`', async () => {
  await withWorker(async ({ client, taskQueue }) => {
    const as = (token: string | undefined) => (args: string[]) => runVeil(args, { taskQueue, env: { VEIL_TOKEN: token ?? '' } });
    const operator = as(undefined);
    const ownerId = uniqueName('clinic');
    const analystId = uniqueName('ana');

    const addedOwner = await operator(['access', 'add', ownerId, '--role', 'owner', '--json']);
    assert.equal(addedOwner.code, 0, describeRun(addedOwner));
    const ownerToken = jsonOf<{ token: string }>(addedOwner).token;
    const addedAnalyst = await operator(['access', 'add', analystId, '--role', 'analyst', '--json']);
    const analystToken = jsonOf<{ token: string; principal: Principal }>(addedAnalyst).token;
    assert.equal(jsonOf<{ principal: Principal }>(addedAnalyst).principal.privileged, false);
    const again = await operator(['access', 'add', analystId, '--role', 'analyst']);
    assert.equal(again.code, 2, describeRun(again));
    assert.match(again.stderr, /already exists/);
    const listed = await operator(['access', 'list', '--json']);
    const principals = jsonOf<Principal[]>(listed);
    assert.deepEqual(principals.find((p) => p.id === analystId)?.role, 'analyst');
    for (const t of [ownerToken, analystToken]) assert.ok(!listed.stdout.includes(t.slice(t.lastIndexOf('.') + 1)), 'list never shows a secret');

    // The owner ingests (the name becomes theirs) and grants; the analyst cannot grant itself.
    const dir = await mkdtemp(join(tmpdir(), 'veil-access-'));
    const file = join(dir, 'notes.csv');
    await writeFile(file, 'id,note\n1,first note\n2,second note\n');
    const dataset = uniqueName('access-notes');
    const ingest = await as(ownerToken)(['datasets', 'add', dataset, file, '--json']);
    assert.equal(ingest.code, 0, describeRun(ingest));
    const refusedIngest = await as(analystToken)(['datasets', 'add', uniqueName('by-analyst'), file]);
    assert.equal(refusedIngest.code, 4, describeRun(refusedIngest));
    assert.match(refusedIngest.stderr, /only data owners may/);

    const grant = await as(ownerToken)(['access', 'grant', '--dataset', dataset, '--analyst', analystId, '--epsilon', '3', '--delta', '1e-5', '--json']);
    assert.equal(grant.code, 0, describeRun(grant));
    assert.deepEqual(jsonOf<LedgerBalance>(grant).granted, { epsilon: 3, delta: 1e-5 });
    const selfGrant = await as(analystToken)(['access', 'grant', '--dataset', dataset, '--analyst', analystId, '--epsilon', '300', '--delta', '0.1']);
    assert.notEqual(selfGrant.code, 0, describeRun(selfGrant));
    assert.match(selfGrant.stderr, /may not set budgets: only the dataset's owner may/);
    const budget = await as(analystToken)(['access', 'budget', '--dataset', dataset, '--json']);
    assert.equal(budget.code, 0, describeRun(budget));
    assert.deepEqual(jsonOf<LedgerBalance>(budget).granted, { epsilon: 3, delta: 1e-5 }, 'the refused self-grant changed nothing');

    // The Temporal UI path: sign an input file, start the workflow with it as is.
    const input = join(dir, 'sample.json');
    await writeFile(input, JSON.stringify({ analyst: analystId, modelId: 'no-such-model', unconditional: 1, maxEpsilon: 5 }));
    const signed = await as(analystToken)(['access', 'sign', '--workflow', 'sample', input]);
    assert.equal(signed.code, 0, describeRun(signed));
    const signedInput = JSON.parse(signed.stdout) as Record<string, unknown>;
    const viaUi = await failureType(client.workflow.execute('sample', { taskQueue, workflowId: uniqueName('ui-sample'), args: [signedInput] }));
    assert.equal(viaUi.type, 'ModelNotFound', `authorized, then refused for the missing model: ${viaUi.message}`);

    // Revoked: the same signed input no longer passes.
    const revoke = await operator(['access', 'revoke', analystId]);
    assert.equal(revoke.code, 0, describeRun(revoke));
    const afterRevoke = await failureType(client.workflow.execute('sample', { taskQueue, workflowId: uniqueName('ui-sample'), args: [signedInput] }));
    assert.equal(afterRevoke.type, 'Unauthenticated');
    assert.match(afterRevoke.message, /revoked/);

    // Reads go through the workers too: a revoked token lists nothing, a valid one does.
    const listRevoked = await as(analystToken)(['datasets', 'list', '--json']);
    assert.equal(listRevoked.code, 4, describeRun(listRevoked));
    assert.match(listRevoked.stderr, /revoked/);
    const listOwner = await as(ownerToken)(['datasets', 'list', '--json']);
    assert.equal(listOwner.code, 0, describeRun(listOwner));
    assert.ok((JSON.parse(listOwner.stdout) as { name: string }[]).some((d) => d.name === dataset));

    // An operator gives a dataset without an owner to a data owner, once.
    const legacy = uniqueName('legacy-notes');
    const owned = await operator(['access', 'own', legacy, '--owner', ownerId]);
    assert.equal(owned.code, 0, describeRun(owned));
    const stolen = await operator(['access', 'own', legacy, '--owner', analystId]);
    assert.equal(stolen.code, 2, describeRun(stolen));
    const secondOwner = uniqueName('clinic2');
    await operator(['access', 'add', secondOwner, '--role', 'owner']);
    const reassigned = await operator(['access', 'own', legacy, '--owner', secondOwner]);
    assert.equal(reassigned.code, 2, describeRun(reassigned));
    assert.match(reassigned.stderr, /already belongs to/);

    // No token at all: a usage error before anything starts.
    const noToken = await operator(['sample', '--model', 'm', '--analyst', analystId, '--max-epsilon', '5', '--unconditional', '1']);
    assert.equal(noToken.code, 2, describeRun(noToken));
    assert.match(noToken.stderr, /no access token/);
  }, { env, gpu: false });
});
