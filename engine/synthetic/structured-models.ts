// The models of structured string columns, whose types nest: a string column may hold JSON
// objects whose values are string columns again. Kept in one file so the fitting modules import
// these types without importing each other.
import type { CategoryModel } from './category-model.ts';
import type { ColumnSchema } from './budget.ts';
import type { DateModel } from './date-model.ts';
import type { JsonStyle } from './json-style.ts';
import type { NumericModel } from './numeric-model.ts';
import type { PatternModel } from './pattern-model.ts';
import type { ShapeGroup } from './string-shapes.ts';
import type { TextModel } from './text-model.ts';

export interface JsonKeyModel {
  readonly key: string;
  /** Noisy counts aligned with VALUE_TYPES. */
  readonly types: readonly number[];
  /** The type its values are written as (numbers: integers or floats); 'null' when none. */
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'null';
  readonly values?: StringModel | NumericModel | CategoryModel;
}

export interface JsonModel {
  readonly kind: 'json';
  readonly style: JsonStyle;
  /** [keys in order, noisy count]. */
  readonly keyLists: readonly (readonly [readonly string[], number])[];
  readonly keys: readonly JsonKeyModel[];
}

export interface StringModel {
  readonly kind: 'string';
  /** Noisy counts of the shapes, aligned with SHAPES. */
  readonly shapes: readonly number[];
  readonly group: ShapeGroup;
  readonly model: TextModel | DateModel | PatternModel | JsonModel;
}

export interface StringFitOptions {
  readonly column: ColumnSchema;
  /** Whether a JSON object is a shape here (not inside another JSON object's values). */
  readonly allowJson: boolean;
}

