// Failure messages and stack traces can quote private values (an error about a row, a refused
// request): the failure converter moves them into a payload, which the codec then encrypts. Loaded
// by path (dataConverter.failureConverterPath) in the worker and inside the workflow sandbox, so
// this file imports nothing Node-only.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
