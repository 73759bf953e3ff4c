// Failure messages and stack traces can quote private values (an error about a row, a refused
// request): this failure converter moves them into a payload, which the codec then encrypts.
// Temporal loads it by path (dataConverter.failureConverterPath) with require(), in the worker and
// inside the workflow sandbox, so it is plain CommonJS with nothing Node-only.
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- Temporal require()s this file
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
