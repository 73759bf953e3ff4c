// The `veil` command line. Each command group lives in its own module and registers itself here.
import { Command } from 'commander';
import { registerAccessCommands } from './access.ts';
import { registerAuditCommands } from './audit.ts';
import { registerCodecServerCommands } from './codec-server.ts';
import { registerDatasetsCommands } from './datasets.ts';
import { registerDemoCommands } from './demo.ts';
import { registerFinetuneCommands } from './finetune.ts';
import { registerGenerateCommands } from './generate.ts';
import { registerInfraCommands } from './infra.ts';
import { registerJobsCommands } from './jobs.ts';
import { registerModelsCommands } from './models.ts';
import { registerPrivacyCommands } from './privacy.ts';
import { registerSampleCommands } from './sample.ts';
import { registerScheduleCommands } from './schedule.ts';
import { registerWorkerCommands } from './worker.ts';

const program = new Command()
  .name('veil')
  .description('Veil: differentially-private fine-tuning of GPT-2 models on data nobody may read.')
  .showHelpAfterError()
  .configureHelp({ showGlobalOptions: true })
  .option('--token <token>', 'your access token (default: $VEIL_TOKEN; prefer the variable, flags show in the process list)')
  .hook('preAction', (command) => {
    // One place for the token: commands read VEIL_TOKEN (clients/cli/token.ts).
    const token = command.opts<{ token?: string }>().token;
    if (token) process.env.VEIL_TOKEN = token;
  });

// Command groups (one line each; keep alphabetical):
registerAccessCommands(program);
registerAuditCommands(program);
registerCodecServerCommands(program);
registerDatasetsCommands(program);
registerDemoCommands(program);
registerFinetuneCommands(program);
registerGenerateCommands(program);
registerInfraCommands(program);
registerJobsCommands(program);
registerModelsCommands(program);
registerPrivacyCommands(program);
registerSampleCommands(program);
registerScheduleCommands(program);
registerWorkerCommands(program);


program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`veil: ${message}\n`);
  process.exitCode = typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1;
});
