// The codec server's view of Temporal and S3 for WorkflowReaders: raw start events (no data
// converter: it decrypts them itself, under the workflow id it asks about) and the registry.
// Payloads are sealed per workflow id, whatever the namespace: the runs of an id are gathered from
// every namespace Veil uses (the jobs' and the reads'), so a run started under the same id in the
// other namespace by someone else makes the id operator-only, as two signers in one namespace do.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { datasetOwner, readPrincipalRecord } from '../access/index.ts';
import type { ArtifactStore } from '../storage/index.ts';
import type { ReaderSources, StartedRun } from './readers.ts';

const MAX_RUNS = 20;
/** Fine-tunes' workflow ids, and the id a schedule's runs are named after: `finetune-<name>`. */
const FINE_TUNE_PREFIX = 'finetune-';

export function temporalReaderSources(temporal: Client, namespaces: string | readonly string[], store: ArtifactStore): ReaderSources {
  const service = temporal.workflowService;
  const all = [...new Set(typeof namespaces === 'string' ? [namespaces] : namespaces)];
  async function startOf(namespace: string, workflowId: string, runId?: string): Promise<StartedRun | undefined> {
    try {
      const history = await service.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 1 });
      const attrs = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
      return attrs ? { workflowType: attrs.workflowType?.name ?? '', input: (attrs.input?.payloads ?? []) as Payload[] } : undefined;
    } catch {
      return undefined;
    }
  }
  async function startedRunsIn(namespace: string, workflowId: string): Promise<StartedRun[]> {
    const quoted = workflowId.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
    const listed = await service.listWorkflowExecutions({ namespace, query: `WorkflowId = '${quoted}'`, pageSize: MAX_RUNS });
    const runIds = (listed.executions ?? []).map((e) => e.execution?.runId ?? undefined).filter((r): r is string => !!r);
    // Visibility lags a just-started run: then the current run's history answers.
    const runs = await Promise.all((runIds.length > 0 ? runIds : [undefined]).map((runId) => startOf(namespace, workflowId, runId)));
    return runs.filter((r): r is StartedRun => r !== undefined);
  }
  return {
    async startedRuns(workflowId) {
      const found = (await Promise.all(all.map((namespace) => startedRunsIn(namespace, workflowId)))).flat();
      if (found.length > 0) return found;
      // A schedule's action, sealed for the id its runs are named after: the schedule of that id
      // (schedules made before their id became their name), or of that id less the fine-tune prefix
      // (clients/sdk/schedules.ts). Only an action naming exactly this id counts.
      const namespace = all[0];
      for (const scheduleId of [workflowId, ...(workflowId.startsWith(FINE_TUNE_PREFIX) ? [workflowId.slice(FINE_TUNE_PREFIX.length)] : [])]) {
        try {
          const schedule = await service.describeSchedule({ namespace, scheduleId });
          const start = schedule.schedule?.action?.startWorkflow;
          if (start && start.workflowId === workflowId) return [{ workflowType: start.workflowType?.name ?? '', input: (start.input?.payloads ?? []) as Payload[] }];
        } catch {
          // No such schedule: try the next id.
        }
      }
      return [];
    },
    async principalSecret(id) {
      const record = await readPrincipalRecord(store, id);
      return record && !record.revokedAt ? record.secret : undefined;
    },
    datasetOwner: (name) => datasetOwner(store, name),
  };
}
