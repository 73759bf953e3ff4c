// Deterministic prompt ids shared with hf_generate.py (keep the two formulas identical).
export function promptIds(batch: number, length: number): number[][] {
  return Array.from({ length: batch }, (_, b) => Array.from({ length }, (_, i) => (i * 131 + b * 7) % 50000));
}
