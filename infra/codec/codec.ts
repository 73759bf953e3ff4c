// The payload codec of Veil's workers (and of operators' tools): AES-256-GCM with a per-workflow
// data key (payload-cipher.ts). The SDK hands the codec the workflow a payload belongs to (its
// serialization context: the workflow itself, the workflow that scheduled an activity, the target
// of a signal or child); that id is sealed into the ciphertext. On decode, a payload bound to
// another workflow than the one it arrived in is refused: a ciphertext copied from a victim's
// history into an attacker's workflow does not decrypt there.
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import type { KeyRing } from './key-ring.ts';
import { PayloadDecryptionError, bindingOf, decryptPayload, encryptPayload, isEncrypted } from './payload-cipher.ts';

/** Payloads encoded outside any workflow's context are bound to this id: only operators read them. */
export const UNBOUND_WORKFLOW_ID = '';

export function contextWorkflowId(context: SerializationContext | undefined): string | undefined {
  return context?.workflowId || undefined;
}

// A Schedule starts runs with the id `<action's workflow id>-<scheduled time>`, reusing the input
// it was created with (sealed for the action's id).
const SCHEDULED_RUN_SUFFIX = /^-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Whether a payload sealed for `boundId` may be read in workflow `contextId`. */
export function bindingMatches(boundId: string, contextId: string): boolean {
  return boundId === contextId || (contextId.startsWith(boundId) && SCHEDULED_RUN_SUFFIX.test(contextId.slice(boundId.length)));
}

export class VeilPayloadCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  private master() {
    return { keyId: this.ring.currentKeyId, key: this.ring.keys.get(this.ring.currentKeyId)! };
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const workflowId = contextWorkflowId(context) ?? UNBOUND_WORKFLOW_ID;
    return Promise.resolve(payloads.map((p) => (isEncrypted(p) ? p : encryptPayload(p, this.master(), workflowId))));
  }

  /** Unencrypted payloads (histories from before the codec) pass unchanged. */
  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const expected = contextWorkflowId(context);
    return Promise.resolve(payloads.map((p) => {
      if (!isEncrypted(p)) return p;
      const bound = bindingOf(p)?.workflowId;
      if (expected !== undefined && bound !== undefined && bound !== UNBOUND_WORKFLOW_ID && !bindingMatches(bound, expected)) {
        throw new PayloadDecryptionError(`a payload sealed for workflow "${bound}" arrived in workflow "${expected}": refused`);
      }
      return decryptPayload(p, (id) => this.ring.keys.get(id));
    }));
  }
}
