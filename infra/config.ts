// Veil's one configuration module: every address, credential and path comes from here.
// Values come from environment variables with documented defaults; a bad value fails at start
// with a message naming the variable, instead of surfacing later as a confusing network error.
import { z } from 'zod';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

/** The repository root (this file lives in <root>/infra). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:7233');

const port = z.coerce.number().int().min(1).max(65535);

/** Each variable, its schema, its default and what it is for (printed by `veil config`). */
export const configVariables = {
  TEMPORAL_ADDRESS: { schema: hostPort, default: '127.0.0.1:7233', doc: 'Temporal frontend (gRPC) address' },
  TEMPORAL_NAMESPACE: { schema: z.string().min(1), default: 'default', doc: 'Temporal namespace' },
  VEIL_READS_NAMESPACE: {
    schema: z.string().min(1),
    default: 'veil-reads',
    doc: 'Temporal namespace of read-only requests (catalog, balances, audit show), kept out of the jobs list',
  },
  TEMPORAL_UI_PORT: { schema: port, default: '8233', doc: 'Temporal web UI port (embedded server)' },
  VEIL_CODEC_PORT: { schema: port, default: '8234', doc: 'Port of the codec server that `veil infra up` starts (embedded setup)' },
  VEIL_CODEC_URL: { schema: z.string().url(), default: 'http://127.0.0.1:8234', doc: 'Codec server the CLI and SDK ask to seal and open payloads' },
  VEIL_S3_ENDPOINT: { schema: z.string().url(), default: 'http://127.0.0.1:9000', doc: 'S3 endpoint URL' },
  VEIL_S3_CONSOLE_PORT: { schema: port, default: '9001', doc: 'MinIO console port (embedded server)' },
  VEIL_S3_ACCESS_KEY: { schema: z.string().min(3), default: 'veiladmin', doc: 'S3 access key' },
  VEIL_S3_SECRET_KEY: { schema: z.string().min(8), default: 'veil-secret-key', doc: 'S3 secret key (8+ chars)' },
  VEIL_S3_BUCKET: {
    schema: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'S3 bucket names are 3-63 lowercase letters, digits, dots, hyphens'),
    default: 'veil',
    doc: 'S3 bucket for all artifacts',
  },
  VEIL_S3_REGION: { schema: z.string().min(1), default: 'us-east-1', doc: 'S3 region' },
  VEIL_HOME: { schema: z.string().min(1), default: join(projectRoot, '.veil'), doc: 'Local state: server binaries, data folders, logs' },
  VEIL_TASK_QUEUE: {
    schema: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/, 'letters, digits, . _ -'),
    default: 'veil',
    doc: 'Name of the light task queue; the GPU queue is <name>-gpu (tests and staging use their own)',
  },
  VEIL_TASK_QUEUES: {
    schema: z.string().regex(/^(veil|veil-gpu)(,(veil|veil-gpu))*$/, 'a comma-separated list of veil, veil-gpu'),
    default: 'veil,veil-gpu',
    doc: 'Which queues a `veil worker` polls: veil (workflows, light activities), veil-gpu (training, sampling)',
  },
} as const;

type Vars = typeof configVariables;
export type VeilConfig = { [K in keyof Vars]: z.output<Vars[K]['schema']> };

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode = 2;
}

/** Parses the configuration from an environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): VeilConfig {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(configVariables)) {
    const raw = env[name] === undefined || env[name] === '' ? spec.default : env[name];
    const parsed = (spec.schema as z.ZodType).safeParse(raw);
    if (parsed.success) out[name] = parsed.data;
    else problems.push(`${name}=${JSON.stringify(raw)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid Veil configuration:\n  ${problems.join('\n  ')}`);
  return out as VeilConfig;
}

let cached: VeilConfig | undefined;
/** The process-wide configuration, parsed once. */
export function config(): VeilConfig {
  cached ??= loadConfig();
  return cached;
}

/** Where the embedded servers keep their binaries, data and logs. */
export function localPaths(cfg: VeilConfig = config()) {
  const home = cfg.VEIL_HOME;
  return {
    home,
    venv: join(home, 'venv'),
    temporalBin: join(home, 'venv', 'bin', 'temporal'),
    minioBin: join(home, 'bin', 'minio'),
    temporalDb: join(home, 'data', 'temporal.db'),
    minioData: join(home, 'data', 'minio'),
    logs: join(home, 'logs'),
    run: join(home, 'run'),
  };
}

/** The task queues: light work and orchestration on `veil`, training and sampling on `veil-gpu`. */
export const TASK_QUEUE = 'veil';
export const GPU_TASK_QUEUE = 'veil-gpu';

/** The actual queue names of the two roles: `<VEIL_TASK_QUEUE>` and `<VEIL_TASK_QUEUE>-gpu`. */
export function taskQueueNames(cfg: VeilConfig = config()): { light: string; gpu: string } {
  return { light: cfg.VEIL_TASK_QUEUE, gpu: `${cfg.VEIL_TASK_QUEUE}-gpu` };
}
