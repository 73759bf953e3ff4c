// `veil access`: principals, tokens and budgets.
//   add/list/revoke   operators (they hold the S3 credentials the registry lives behind)
//   own               operators: give a dataset that predates access control its owner
//   grant             data owners: set an analyst's (ε, δ) budget on a dataset they own
//   budget            anyone: an analyst's budget on a dataset
//   sign              sign a request for the Temporal UI (its JSON input, with your token)
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { ROLES, claimDatasetOwner, createPrincipal, listPrincipals, readPrincipal, revokePrincipal, signRequest, type Role } from '../../infra/access/index.ts';
import { ArtifactStore } from '../../infra/storage/index.ts';
import { balance, datasetSpend, grantBudget, tokenSigner, type LedgerBalance } from '../sdk/budget.ts';
import { JobInputError } from '../sdk/jobs/index.ts';
import { completeFineTuneInput } from '../sdk/complete-input.ts';
import { UsageError, numberFlag, requireFlags, usageErrorsExit2, withTemporal } from './command-line.ts';
import { requireToken, tokenPrincipal } from './token.ts';

const SIGNABLE = ['fineTune', 'sample', 'ingestDataset'] as const;

function printBalance(b: LedgerBalance): void {
  const f = (x: { epsilon: number; delta: number }) => `ε=${x.epsilon.toFixed(2)}, δ=${x.delta.toExponential(2)}`;
  console.log(`analyst ${b.analyst} on dataset ${b.dataset}`);
  console.log(`  granted    ${f(b.granted)}\n  reserved   ${f(b.reserved)}\n  committed  ${f(b.committed)}\n  remaining  ${f(b.remaining)}`);
}

async function readJsonInput(file: string): Promise<Record<string, unknown>> {
  const text = file === '-' ? await new Response(process.stdin as unknown as ReadableStream).text() : await readFile(file, 'utf8');
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${file}: expected one JSON object (the workflow's input)`);
  return value as Record<string, unknown>;
}

export function registerAccessCommands(program: Command): void {
  const access = program.command('access').description('Principals (data owners, analysts), their tokens, and privacy budgets');

  usageErrorsExit2(
    access
      .command('add')
      .summary('create a principal and print its token (operators)')
      .description('Create a data owner or an analyst and print its access token, once: Veil keeps only what verifies it. Needs the S3 credentials (operators).')
      .argument('<id>', 'principal id: letters, digits, . _ @ -')
      .addOption(new Option('--role <role>', 'owner or analyst').choices([...ROLES]).makeOptionMandatory())
      .option('--privileged', "an analyst allowed non-DP ('unlimited') training and samples")
      .option('--json', 'print {principal, token} as JSON'),
  ).action(async (id: string, opts: { role: Role; privileged?: boolean; json?: boolean }) => {
    const { principal, token } = await createPrincipal(await ArtifactStore.fromConfig(), { id, role: opts.role, privileged: opts.privileged });
    if (opts.json) return console.log(JSON.stringify({ principal, token }));
    console.log(`created ${principal.role} ${principal.id}${principal.privileged ? ' (privileged)' : ''}. Its token (shown once; give it to them privately):\n${token}`);
  });

  access
    .command('list')
    .description('every principal: id, role, privileged, revoked (never a token)')
    .option('--json', 'print a JSON array')
    .action(async (opts: { json?: boolean }) => {
      const principals = await listPrincipals(await ArtifactStore.fromConfig());
      if (opts.json) return console.log(JSON.stringify(principals));
      for (const p of principals) console.log(`${p.id}\t${p.role}${p.privileged ? '\tprivileged' : ''}${p.revokedAt ? `\trevoked ${p.revokedAt}` : ''}`);
    });

  access
    .command('revoke')
    .description('revoke a principal: its token stops working at once (operators)')
    .argument('<id>')
    .action(async (id: string) => {
      const p = await revokePrincipal(await ArtifactStore.fromConfig(), id);
      console.log(`revoked ${p.id} (${p.revokedAt})`);
    });

  access
    .command('own')
    .description('give a dataset with no owner yet (ingested before access control) to a data owner (operators)')
    .argument('<dataset>')
    .requiredOption('--owner <id>', 'a data owner')
    .action(async (dataset: string, opts: { owner: string }) => {
      const store = await ArtifactStore.fromConfig();
      const owner = await readPrincipal(store, opts.owner);
      if (owner?.role !== 'owner' || owner.revokedAt) throw new UsageError(`"${opts.owner}" is not an active data owner`);
      const current = await claimDatasetOwner(store, dataset, owner.id);
      if (current !== owner.id) throw new UsageError(`dataset "${dataset}" already belongs to ${current}: ownership is never reassigned`);
      console.log(`dataset ${dataset} belongs to ${owner.id}`);
    });

  usageErrorsExit2(
    access
      .command('grant')
      .summary("set an analyst's budget on a dataset you own (data owners)")
      .option('--dataset <name>', 'a dataset you own (required)')
      .option('--analyst <id>', 'the analyst (required)')
      .option('--epsilon <e>', 'their total ε on this dataset (required)')
      .option('--delta <d>', 'their total δ (required)')
      .option('--json', 'print the new balance as JSON'),
  ).action(async (opts: { dataset?: string; analyst?: string; epsilon?: string; delta?: string; json?: boolean }) => {
    requireFlags({ ...opts }, { dataset: '--dataset', analyst: '--analyst', epsilon: '--epsilon', delta: '--delta' });
    const signer = tokenSigner(requireToken());
    const request = { dataset: opts.dataset!, analyst: opts.analyst!, epsilon: numberFlag('--epsilon', opts.epsilon)!, delta: numberFlag('--delta', opts.delta)! };
    const b = await withTemporal((client, taskQueue) => grantBudget(client, request, { taskQueue, signer }));
    if (opts.json) return console.log(JSON.stringify(b));
    printBalance(b);
  });

  usageErrorsExit2(
    access
      .command('budget')
      .description("an analyst's budget on a dataset: granted, reserved, committed, remaining")
      .option('--dataset <name>', 'the dataset (required)')
      .option('--analyst <id>', "the analyst (default: the token's principal)")
      .option('--all', "the dataset's totals over every analyst and its synthetic twin")
      .option('--json', 'print as JSON'),
  ).action(async (opts: { dataset?: string; analyst?: string; all?: boolean; json?: boolean }) => {
    if (opts.all) {
      requireFlags(opts, { dataset: '--dataset' });
      const spend = await withTemporal((client, taskQueue) => datasetSpend(client, opts.dataset!, { taskQueue }));
      if (opts.json) return console.log(JSON.stringify(spend));
      for (const l of spend.ledgers) console.log(`${l.analyst}: committed ε=${l.committed.epsilon.toFixed(2)} δ=${l.committed.delta.toPrecision(2)}, reserved ε=${l.reserved.epsilon.toFixed(2)}`);
      console.log(`dataset ${spend.dataset}: committed ε=${spend.committed.epsilon.toFixed(2)} δ=${spend.committed.delta.toPrecision(2)} in all (basic composition), reserved ε=${spend.reserved.epsilon.toFixed(2)}`);
      return;
    }
    const analyst = opts.analyst ?? tokenPrincipal();
    requireFlags({ ...opts, analyst }, { dataset: '--dataset', analyst: '--analyst' });
    const b = await withTemporal((client, taskQueue) => balance(client, { dataset: opts.dataset!, analyst: analyst! }, { taskQueue }));
    if (opts.json) return console.log(JSON.stringify(b));
    printBalance(b);
  });

  usageErrorsExit2(
    access
      .command('sign')
      .summary('sign a workflow input for the Temporal UI')
      .description(
        "Print FILE's JSON (a fineTune, sample or ingestDataset input) with an `auth` field signed by your token: paste it as the workflow's input in the Temporal UI. " +
          'The signature covers the exact input, a fresh nonce and an expiry: edit it afterwards and it no longer verifies; it runs once, before it expires. ' +
          'A fineTune input is completed and checked first: a jobId when it has none, and each map step\'s `fn` traced from its source ' +
          '(give `fn` as the function\'s source text, or {"source", "name"}: the sha256 is computed for you); every problem is listed (exit code 2) before anything is signed.',
      )
      .addOption(new Option('--workflow <type>', 'the workflow the input is for').choices([...SIGNABLE]).makeOptionMandatory())
      .option('--expires-in <minutes>', 'how long the signed input stays good', '60')
      .argument('<file>', "a JSON file with the workflow's input, or - for stdin"),
  ).action(async (file: string, opts: { workflow: (typeof SIGNABLE)[number]; expiresIn: string }) => {
    const minutes = numberFlag('--expires-in', opts.expiresIn);
    if (minutes === undefined || minutes <= 0 || minutes > 7 * 24 * 60) throw new UsageError(`--expires-in: between 1 minute and 7 days, got "${opts.expiresIn}"`);
    const input = (await readJsonInput(file)) as Record<string, unknown>;
    let complete: object = input;
    if (opts.workflow === 'fineTune') {
      try {
        complete = completeFineTuneInput(input);
      } catch (err) {
        if (!(err instanceof JobInputError)) throw err;
        throw new UsageError(`${file}: not a valid fineTune input:\n  ${err.issues.map((i) => `${i.path || '(input)'}: ${i.message}`).join('\n  ')}`);
      }
    }
    console.log(JSON.stringify(signRequest(requireToken(), opts.workflow, complete, { lifetimeMs: minutes * 60_000 }), null, 2));
  });
}
