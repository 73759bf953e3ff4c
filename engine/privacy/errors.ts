// The one error type of the privacy accountants: bad input (a parameter out of range, text
// where a number belongs, a target no noise level reaches). It names the argument and the limit
// so that a person can fix the call, and carries exitCode 2, which the CLI returns.

export class PrivacyInputError extends Error {
  readonly exitCode = 2;
  /** The argument at fault, as the caller spelled it (`sampleRate` in the API, `--sample-rate` on the CLI). */
  readonly argument: string;
  /** The limit it broke, in words (`in (0, 1]`, `an integer ≥ 1`, …). */
  readonly limit: string;

  /** What is wrong, after the argument's name (`must be in (0, 1], got 1.5`). */
  readonly detail: string;

  constructor(argument: string, limit: string, detail: string) {
    super(`${argument} ${detail}`);
    this.name = 'PrivacyInputError';
    this.argument = argument;
    this.limit = limit;
    this.detail = detail;
  }

  /** The same error, naming the argument as another caller spells it (an API name → a CLI flag). */
  renamed(argument: string): PrivacyInputError {
    return new PrivacyInputError(argument, this.limit, this.detail);
  }
}
