// `veil worker`: run a worker process for Veil's task queues.
import { Command } from 'commander';
import { config, taskQueueNames } from '../../infra/config.ts';
import { createWorkers, parseQueues } from '../../workers/worker.ts';

export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description('Run a worker for the task queues veil (workflows, light activities) and/or veil-gpu (training, sampling)')
    .option('--queues <list>', 'comma-separated task queues to poll (default: env VEIL_TASK_QUEUES or veil,veil-gpu)')
    .action(async (opts: { queues?: string }) => {
      const queues = parseQueues(opts.queues ?? config().VEIL_TASK_QUEUES);
      const veil = await createWorkers(queues);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => veil.shutdown());
      const names = taskQueueNames();
      console.log(`veil worker polling ${queues.map((q) => (q === 'veil' ? names.light : names.gpu)).join(', ')} on ${config().TEMPORAL_ADDRESS}`);
      await veil.run();
    });
}
