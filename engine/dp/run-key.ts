// The run's secret key: the root of every random choice DP-SGD makes (which rows join a step,
// which noise is added). Whoever holds it can subtract the noise, so it lives with the run's
// secrets only. This wrapper keeps it out of logs, JSON payloads and util.inspect output by
// construction; the raw bytes are reachable only through an explicit call.
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

const KEY_BYTES = 32;
const REDACTED = '[RunKey redacted]';

export class RunKey {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== KEY_BYTES) throw new RangeError(`RunKey: expected ${KEY_BYTES} bytes, got ${bytes.length}`);
    this.#bytes = Uint8Array.from(bytes); // own copy: the caller may zero or reuse its buffer
  }

  /** A fresh key from the operating system's CSPRNG. */
  static generate(): RunKey {
    return new RunKey(randomBytes(KEY_BYTES));
  }

  /** Accepts a RunKey or its raw bytes (e.g. after crossing a worker boundary). */
  static from(key: RunKey | Uint8Array): RunKey {
    return key instanceof RunKey ? key : new RunKey(key);
  }

  /** The raw key: for deriving streams and for storing with the run's secrets, nothing else. */
  exposeBytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
