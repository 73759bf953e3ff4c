// Rows that came out of a synthetic twin carry a mark, so that code paths allowed to show row
// content (dry runs, previews) can insist on synthetic input at compile time and at run time.

export const SYNTHETIC_NOTICE = 'Evaluated from synthetic data only';

export type SyntheticRows = readonly Record<string, unknown>[] & { readonly provenance: 'synthetic' };

/**
 * Marks rows as synthetic. Call it only on rows sampled from a twin (sampleSynthetic does), or on
 * such rows read back from storage: the mark is what allows their content to be shown.
 */
export function markSynthetic(rows: readonly Record<string, unknown>[]): SyntheticRows {
  const copy = rows.slice();
  Object.defineProperty(copy, 'provenance', { value: 'synthetic', enumerable: false });
  return copy as unknown as SyntheticRows;
}

export function isSynthetic(rows: unknown): rows is SyntheticRows {
  return Array.isArray(rows) && (rows as { provenance?: unknown }).provenance === 'synthetic';
}
