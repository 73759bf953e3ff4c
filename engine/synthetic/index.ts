// The DP synthetic twin of a dataset. See twin.ts (fitting and sampling) and budget.ts (how the
// owner's ε and δ are spent).
export { fitSyntheticTwin, sampleSynthetic, TWIN_MODEL_VERSION, type SyntheticTwinModel, type ColumnModel, type TwinOptions } from './twin.ts';
export { planBudget, type BudgetPlan, type ColumnSchema, type ColumnType, type TwinSchema, type Release } from './budget.ts';
export { markSynthetic, isSynthetic, SYNTHETIC_NOTICE, type SyntheticRows } from './synthetic-rows.ts';
export type { RandomSource } from './random-source.ts';
