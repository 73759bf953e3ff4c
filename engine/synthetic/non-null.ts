// Columns the published schema declares without nulls: the twin never draws a null there. The
// models keep a noisy null count (a null bin beside the value bins), and noise can make it
// positive where the true count is 0, so a draw is repeated until it is not null: that samples
// the model conditioned on "not null", the distribution of the values the column actually holds.
// A model whose every value bin came out at or below 0 can only draw nulls; the column then gets
// a neutral value of its type (documented in the model's kind below), never a null.
import type { ColumnType } from './budget.ts';

/** Draws before falling back: a model with any value weight succeeds long before. */
export const MAX_NULL_REDRAWS = 1000;

/** `draw`, redrawn until not null; `fallback()` when the model only draws nulls. */
export function withoutNulls(draw: () => unknown, fallback: () => unknown): () => unknown {
  return () => {
    for (let i = 0; i < MAX_NULL_REDRAWS; i++) {
      const value = draw();
      if (value !== null && value !== undefined) return value;
    }
    return fallback();
  };
}

/** The neutral value of a column type: empty text, the low end of a number's range, false, an empty JSON object. */
export function neutralValue(type: ColumnType, range?: readonly [number, number]): unknown {
  switch (type) {
    case 'string': return '';
    case 'number': case 'integer': return range ? range[0] : 0;
    case 'boolean': return false;
    case 'json': case 'null': return {};
  }
}
