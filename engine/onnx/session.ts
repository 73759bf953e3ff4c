// The session layer over onnxruntime-node: one place that decides threads, graph optimisation,
// execution provider and when an idle session gives its memory back.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import type { ModelWithExternalData } from './external-data.ts';

export type GraphOptimization = 'disabled' | 'basic' | 'extended' | 'all';
export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt' | 'webgpu' | 'coreml' | 'dml';

export interface SessionConfig {
  /** Where the graph runs. Default 'cpu'. */
  executionProvider?: ExecutionProvider;
  /** Threads inside one op. Default 2 (the build machines have 2 cores shared by everything). */
  intraOpThreads?: number;
  /** Graph optimisation level. Default 'all'. */
  graphOptimization?: GraphOptimization;
  /** Dispose the native session after this many ms without a run; it is rebuilt on the next run. 0 = never. */
  idleReleaseMs?: number;
  /**
   * Let idle intra-op threads spin for the next op instead of sleeping (default true): fastest for
   * one session. Sessions that run in turn (a model split into stages) must turn it off, or each
   * one's spinning threads take the cores from the next.
   */
  spinning?: boolean;
  /** onnxruntime's CPU memory arena (default true): faster allocations; it keeps its peak size. */
  memoryArena?: boolean;
  /**
   * onnxruntime's memory pattern (default true): after a run it lays out every activation of that
   * input shape in one planned block. For a large graph whose buffers the planner already reuses
   * (the training step) the block is larger than the live tensors ever are, and it stays held.
   */
  memoryPattern?: boolean;
  /** Write onnxruntime's per-node profile to files starting with this path (for benches). */
  profileFilePrefix?: string;
}

export class ExecutionProviderUnavailableError extends Error {
  override name = 'ExecutionProviderUnavailableError';
  readonly exitCode = 3;
}

type ResolvedConfig = Required<Omit<SessionConfig, 'profileFilePrefix'>> & Pick<SessionConfig, 'profileFilePrefix'>;

const defaults: ResolvedConfig = {
  executionProvider: 'cpu',
  intraOpThreads: 2,
  graphOptimization: 'all',
  idleReleaseMs: 0,
  spinning: true,
  memoryArena: true,
  memoryPattern: true,
};

const providers: ExecutionProvider[] = ['cpu', 'cuda', 'tensorrt', 'webgpu', 'coreml', 'dml'];

/** Session settings from VEIL_ORT_PROVIDER, VEIL_ORT_THREADS and VEIL_ORT_OPTIMIZATION. */
export function sessionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SessionConfig {
  const out: SessionConfig = {};
  const ep = env.VEIL_ORT_PROVIDER;
  if (ep) {
    if (!providers.includes(ep as ExecutionProvider)) throw new Error(`VEIL_ORT_PROVIDER=${ep}: expected one of ${providers.join(', ')}`);
    out.executionProvider = ep as ExecutionProvider;
  }
  if (env.VEIL_ORT_THREADS) {
    const n = Number(env.VEIL_ORT_THREADS);
    if (!Number.isInteger(n) || n < 1) throw new Error(`VEIL_ORT_THREADS=${env.VEIL_ORT_THREADS}: expected a positive integer`);
    out.intraOpThreads = n;
  }
  const opt = env.VEIL_ORT_OPTIMIZATION;
  if (opt) {
    if (!['disabled', 'basic', 'extended', 'all'].includes(opt)) throw new Error(`VEIL_ORT_OPTIMIZATION=${opt}: expected disabled, basic, extended or all`);
    out.graphOptimization = opt as GraphOptimization;
  }
  return out;
}

function bindingDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Throws ExecutionProviderUnavailableError unless this onnxruntime-node build can run `ep` here.
 * A provider that the package lists but does not bundle (CUDA, TensorRT) needs its provider
 * library next to the binding; onnxruntime would otherwise fail with an obscure dlopen error.
 */
export function assertProviderAvailable(ep: ExecutionProvider): void {
  if (ep === 'cpu') return;
  const backends = ort.listSupportedBackends();
  const entry = backends.find((b) => b.name === ep);
  const listed = backends.map((b) => b.name).join(', ');
  if (!entry) throw new ExecutionProviderUnavailableError(`execution provider '${ep}' is not in this onnxruntime-node build (${process.platform}/${process.arch} supports: ${listed})`);
  if (!entry.bundled) {
    const lib = join(bindingDir(), `libonnxruntime_providers_${ep}.so`);
    if (!existsSync(lib)) {
      throw new ExecutionProviderUnavailableError(
        `execution provider '${ep}' needs ${lib}, which is not installed (the project skips onnxruntime-node's download of GPU libraries; install them on GPU workers, or use VEIL_ORT_PROVIDER=cpu)`,
      );
    }
  }
}

type Feeds = Record<string, ort.Tensor>;

/**
 * A serialized model, or a function that serializes it. A session made from a function keeps no
 * copy of the bytes (they can hold hundreds of MB of baked weights): it calls the function again
 * only to reload after an idle release.
 */
export type ModelSource = ModelBytes | (() => ModelBytes | Promise<ModelBytes>);

/** A serialized model, possibly with its large initializers outside the protobuf (serializeGraphExternal). */
export type ModelBytes = Uint8Array | ModelWithExternalData;

/** An onnxruntime session with Veil's settings, that can release itself when idle and come back. */
export class EngineSession {
  private session: ort.InferenceSession | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly config: ResolvedConfig;

  private constructor(
    private readonly model: ModelSource,
    config: SessionConfig,
  ) {
    this.config = { ...defaults, ...config };
  }

  static async create(model: ModelSource, config: SessionConfig = {}): Promise<EngineSession> {
    const s = new EngineSession(model, config);
    assertProviderAvailable(s.config.executionProvider);
    await s.ensure();
    return s;
  }

  get inputNames(): readonly string[] {
    return this.native().inputNames;
  }

  get outputNames(): readonly string[] {
    return this.native().outputNames;
  }

  /** Whether the native session is currently held (false after an idle release). */
  get isLoaded(): boolean {
    return this.session !== undefined;
  }

  /**
   * Runs the graph. `fetches` limits which outputs are computed and copied back: a list of names,
   * or a record where a tensor is a preallocated output onnxruntime writes in place and null one
   * it allocates.
   */
  async run(feeds: Feeds, fetches?: readonly string[] | Record<string, ort.Tensor | null>): Promise<Record<string, ort.Tensor>> {
    const session = await this.ensure();
    this.clearIdleTimer();
    try {
      if (fetches === undefined) return await session.run(feeds);
      return Array.isArray(fetches) ? await session.run(feeds, fetches as readonly string[]) : await session.run(feeds, fetches as ort.InferenceSession.FetchesType);
    } finally {
      this.armIdleTimer();
    }
  }

  /** Frees the native session now; a later run rebuilds it. */
  async release(): Promise<void> {
    this.clearIdleTimer();
    const s = this.session;
    this.session = undefined;
    if (s) await s.release();
  }

  private native(): ort.InferenceSession {
    if (!this.session) throw new Error('session is released; call run() to reload it');
    return this.session;
  }

  private async ensure(): Promise<ort.InferenceSession> {
    if (this.session) return this.session;
    const c = this.config;
    const sessionEntries: Record<string, string> = { 'intra_op.allow_spinning': c.spinning ? '1' : '0' };
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: [c.executionProvider],
      intraOpNumThreads: c.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: c.graphOptimization,
      executionMode: 'sequential',
      enableCpuMemArena: c.memoryArena,
      enableMemPattern: c.memoryPattern,
      extra: { session: sessionEntries },
      ...(c.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: c.profileFilePrefix } : {}),
    };
    try {
      const model = typeof this.model === 'function' ? await this.model() : this.model;
      if (model instanceof Uint8Array) this.session = await ort.InferenceSession.create(model, options);
      else {
        // A model made from bytes has no folder of its own: file-backed initializers say where theirs is.
        if (model.folder) sessionEntries.model_external_initializers_file_folder_path = model.folder;
        try {
          this.session = await ort.InferenceSession.create(model.bytes, { ...options, externalData: model.externalData });
        } finally {
          await model.dispose?.();
        }
      }
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (c.executionProvider !== 'cpu') throw new ExecutionProviderUnavailableError(`could not start a session on '${c.executionProvider}': ${msg}`);
      throw err;
    }
    this.armIdleTimer();
    return this.session;
  }

  private armIdleTimer(): void {
    if (this.config.idleReleaseMs <= 0) return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => void this.release(), this.config.idleReleaseMs);
    this.idleTimer.unref(); // an idle session must not keep the process alive
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
