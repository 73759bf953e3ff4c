// The codec server's view of Temporal and S3 for WorkflowReaders: raw start events (no data
// converter: it decrypts them itself, under the workflow id it asks about) and the registry.
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { datasetOwner, readPrincipalRecord } from '../access/index.ts';
import type { ArtifactStore } from '../storage/index.ts';
import type { ReaderSources, StartedRun } from './readers.ts';

const MAX_RUNS = 20;

export function temporalReaderSources(temporal: Client, namespace: string, store: ArtifactStore): ReaderSources {
  const service = temporal.workflowService;
  async function startOf(workflowId: string, runId?: string): Promise<StartedRun | undefined> {
    try {
      const history = await service.getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId }, maximumPageSize: 1 });
      const attrs = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
      return attrs ? { workflowType: attrs.workflowType?.name ?? '', input: (attrs.input?.payloads ?? []) as Payload[] } : undefined;
    } catch {
      return undefined;
    }
  }
  return {
    async startedRuns(workflowId) {
      const quoted = workflowId.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
      const listed = await service.listWorkflowExecutions({ namespace, query: `WorkflowId = '${quoted}'`, pageSize: MAX_RUNS });
      const runIds = (listed.executions ?? []).map((e) => e.execution?.runId ?? undefined).filter((r): r is string => !!r);
      // Visibility lags a just-started run: then the current run's history answers.
      const runs = await Promise.all((runIds.length > 0 ? runIds : [undefined]).map((runId) => startOf(workflowId, runId)));
      const found = runs.filter((r): r is StartedRun => r !== undefined);
      if (found.length > 0) return found;
      try {
        const schedule = await service.describeSchedule({ namespace, scheduleId: workflowId });
        const start = schedule.schedule?.action?.startWorkflow;
        return start ? [{ workflowType: start.workflowType?.name ?? '', input: (start.input?.payloads ?? []) as Payload[] }] : [];
      } catch {
        return [];
      }
    },
    async principalSecret(id) {
      const record = await readPrincipalRecord(store, id);
      return record && !record.revokedAt ? record.secret : undefined;
    },
    datasetOwner: (name) => datasetOwner(store, name),
  };
}
