// Measuring how much memory an operation adds, to prove that large objects are streamed.

export interface RssGrowth<T> {
  result: T;
  /** Highest RSS seen during the operation minus RSS just before it, in bytes. */
  peakGrowth: number;
}

/** Runs `fn` while sampling the process RSS every `everyMs`. */
export async function measureRssGrowth<T>(fn: () => Promise<T>, everyMs = 10): Promise<RssGrowth<T>> {
  (globalThis as { gc?: () => void }).gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, everyMs);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakGrowth: peak - baseline };
  } finally {
    clearInterval(timer);
  }
}

export const MiB = 1024 * 1024;
