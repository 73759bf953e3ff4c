// `veil models download ID DIR`: a registered model's files, written into DIR so that transformers
// opens it unchanged (AutoModelForCausalLM.from_pretrained(DIR)). The workers decide whether the
// token's principal may read the model (its analyst or its dataset's owner for a DP model,
// privileged principals for a non-DP one) and hand out short-lived URLs; every file is checked
// against its sha256 before it is kept. Exit codes: 0 written, 1 failed, 2 no such model, 4 refused.
import type { Command } from 'commander';
import { formatEpsilon } from '../sdk/progress.ts';
import { downloadModel } from '../sdk/models.ts';
import { usageErrorsExit2, withTemporal } from './command-line.ts';
import { requireToken } from './token.ts';

export function registerModelsCommands(program: Command): void {
  const models = usageErrorsExit2(program.command('models').description('Registered models: get the ones you may read'));
  usageErrorsExit2(
    models
      .command('download')
      .argument('<model>', 'the model id (its fine-tune job id)')
      .argument('<dir>', 'the folder to write (created if missing; files of the same name are replaced)')
      .option('--json', 'print what was written as JSON')
      .addHelpText('after', '\nExit codes: 0 written, 1 failed, 2 no such model, 4 refused (not yours to read).'),
  ).action(async (modelId: string, dir: string, opts: { json?: boolean }) => {
    const token = requireToken();
    const got = await withTemporal((client, taskQueue) => downloadModel({ temporal: client, taskQueue, token }, modelId, dir));
    if (opts.json) return console.log(JSON.stringify(got));
    const delta = got.delta === null ? '' : `, δ=${got.delta.toExponential(2)}`;
    const bytes = got.files.reduce((s, f) => s + f.size, 0);
    console.log(`model ${got.modelId} (ε=${formatEpsilon(got.epsilon)}${delta}) written to ${got.dir}: ${got.files.length} files, ${(bytes / 1e6).toFixed(1)} MB, each checked against its sha256`);
    for (const f of got.files) console.log(`  ${f.path}  ${f.size} bytes`);
    console.log(`open it with transformers: AutoModelForCausalLM.from_pretrained(${JSON.stringify(got.dir)})`);
  });
}
