// `veil audit show MODEL`: a model's privacy audit. The dataset's owner gets the summary and the
// self-contained HTML report (written where --out says); the model's analyst the analyst's summary.
// `veil datasets canaries add NAME --file F`: the owner's secret canaries for a dataset;
// `veil datasets canaries require NAME --inserted M`: the owner's minimum of inserted canaries.
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { addOwnerCanaries, showAudit } from '../sdk/audit.ts';
import { setAuditPolicy } from '../sdk/audit-policy.ts';
import { requireFlags, usageErrorsExit2, withTemporal } from './command-line.ts';
import { requireToken } from './token.ts';

export function registerAuditCommands(program: Command): void {
  const audit = usageErrorsExit2(program.command('audit').description("A model's privacy audit: extraction and exposure of the owner's canaries, membership inference, the empirical ε lower bound"));
  usageErrorsExit2(
    audit
      .command('show')
      .argument('<model>', 'the model id (its fine-tune job id)')
      .option('--out <file>', "where to write the HTML report (the dataset's owner only)")
      .option('--json', 'print the summary as JSON'),
  ).action(async (modelId: string, opts: { out?: string; json?: boolean }) => {
    const token = requireToken();
    const shown = await withTemporal((client, taskQueue) => showAudit(client, taskQueue, token, modelId));
    if (opts.out && shown.html) await writeFile(opts.out, shown.html);
    if (opts.json) return console.log(JSON.stringify({ modelId: shown.modelId, audience: shown.audience, summary: shown.summary, report: opts.out && shown.html ? opts.out : null }));
    console.log(`audit of model ${shown.modelId} (${shown.audience === 'data-owner' ? "the data owner's view" : "the analyst's view"})`);
    const findings = (shown.summary as { findings?: unknown }).findings;
    if (Array.isArray(findings)) for (const f of findings) console.log(`  ${String(f)}`);
    else console.log(JSON.stringify(shown.summary, null, 2));
    if (opts.out) console.log(shown.html ? `report written to ${opts.out}` : 'no report: the HTML report is for the dataset\'s owner');
  });
}

export function registerCanaryCommands(datasets: Command): void {
  const canaries = usageErrorsExit2(datasets.command('canaries').description("A dataset's secret canaries (data owners): sentences every audit of a model trained on it looks for"));
  usageErrorsExit2(
    canaries
      .command('add')
      .argument('<name>', 'the dataset')
      .option('--file <file>', 'JSON Lines of {"prompt": …, "secret": …}: the secret starts with the prompt')
      .option('--json', 'print the result as JSON'),
  ).action(async (name: string, opts: { file?: string; json?: boolean }) => {
    requireFlags(opts, { file: '--file' });
    const token = requireToken();
    const r = await withTemporal((client, taskQueue) => addOwnerCanaries(client, taskQueue, token, name, opts.file!));
    if (opts.json) return console.log(JSON.stringify(r));
    console.log(`dataset ${r.dataset}: ${r.added} canaries added, ${r.total} in all (they never enter a workflow history or a log)`);
  });
  usageErrorsExit2(
    canaries
      .command('require')
      .argument('<name>', 'the dataset')
      .option('--inserted <m>', 'every fine-tune on the dataset inserts at least m random canaries (0: no minimum)')
      .option('--json', 'print the result as JSON'),
  ).action(async (name: string, opts: { inserted?: string; json?: boolean }) => {
    requireFlags(opts, { inserted: '--inserted' });
    const minInsertedCanaries = Number(opts.inserted);
    if (!Number.isInteger(minInsertedCanaries) || minInsertedCanaries < 0) throw new InvalidArgumentError(`--inserted must be a whole number ≥ 0 (got ${opts.inserted})`);
    const token = requireToken();
    const r = await withTemporal((client, taskQueue) => setAuditPolicy(client, taskQueue, token, name, { minInsertedCanaries }));
    if (opts.json) return console.log(JSON.stringify(r));
    console.log(`dataset ${r.dataset}: every fine-tune now inserts at least ${r.policy.minInsertedCanaries} canaries (policy revision ${r.revision})`);
  });
}
