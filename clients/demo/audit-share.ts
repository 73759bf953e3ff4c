// How much of a fine-tune's wall time its privacy audit took, read from the job's Temporal history:
// the auditModel activity's schedule-to-completion against the workflow's start-to-close. Event
// times are plain in the history (only payloads are encrypted), so any client can measure it.
import type { Client } from '@temporalio/client';

export interface AuditShare {
  auditSeconds: number;
  jobSeconds: number;
}

const seconds = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number => Number(t?.seconds ?? 0) + (t?.nanos ?? 0) / 1e9;

/** The audit's share of the job `workflowId` (its latest run), or null when it ran no audit. */
export async function auditShare(temporal: Client, workflowId: string): Promise<AuditShare | null> {
  const events = (await temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  if (events.length === 0) return null;
  const scheduled = new Map<string, number>();
  let auditSeconds = 0;
  let audited = false;
  for (const e of events) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'auditModel') scheduled.set(id, seconds(e.eventTime));
    const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes;
    const from = done ? scheduled.get(String(done.scheduledEventId)) : undefined;
    if (from !== undefined) {
      auditSeconds += seconds(e.eventTime) - from;
      audited = true;
    }
  }
  if (!audited) return null;
  return { auditSeconds, jobSeconds: seconds(events[events.length - 1].eventTime) - seconds(events[0].eventTime) };
}
