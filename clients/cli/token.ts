// The caller's access token on the command line: `--token` (a global flag) or VEIL_TOKEN. Prefer
// the variable: a flag's value is visible to other users of the machine in the process list.
import { parseToken } from '../../infra/access/index.ts';
import { UsageError } from './command-line.ts';

/** The token to sign requests with; a missing or malformed one is a usage error (exit code 2). */
export function requireToken(): string {
  const token = process.env.VEIL_TOKEN;
  if (!token) throw new UsageError('no access token: set VEIL_TOKEN (or pass --token); `veil access add` creates principals and prints their tokens');
  try {
    parseToken(token);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return token;
}

/** The principal id of VEIL_TOKEN, if one is set (the default for --analyst). */
export function tokenPrincipal(): string | undefined {
  const token = process.env.VEIL_TOKEN;
  if (!token) return undefined;
  try {
    return parseToken(token).principal;
  } catch {
    return undefined;
  }
}
