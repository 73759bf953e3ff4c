#!/usr/bin/env node
// The `veil` command: loads the TypeScript CLI through tsx's loader in this same process (no
// build step, and signals reach the CLI directly).
import { register } from 'tsx/esm/api';

register();
await import('../clients/cli/main.ts');
