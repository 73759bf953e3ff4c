// A workflow interceptor (bundled with the workflows): when a workflow ends with a routine refusal,
// it logs the refusal's type and message as one line, marked, before Temporal logs its "Workflow
// failed" warning. That warning's failure crosses from the workflow thread without its type, so
// the worker's logger (quiet-refusals.ts) drops it on seeing the mark for the same run. Logging is
// no command: histories replay as before.
import { log, type WorkflowInboundCallsInterceptor, type WorkflowInterceptors } from '@temporalio/workflow';
import { REFUSAL_MARK, routineRefusal } from './quiet-refusals.ts';

class RefusalLog implements WorkflowInboundCallsInterceptor {
  async execute(input: Parameters<NonNullable<WorkflowInboundCallsInterceptor['execute']>>[0], next: Parameters<NonNullable<WorkflowInboundCallsInterceptor['execute']>>[1]): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      const refusal = routineRefusal(err);
      if (refusal) log.info(`workflow refused (${refusal.type}): ${refusal.message}`, { [REFUSAL_MARK]: refusal.type });
      throw err;
    }
  }
}

export const interceptors = (): WorkflowInterceptors => ({ inbound: [new RefusalLog()] });
