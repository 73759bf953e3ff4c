// The jobs' own activities: the search-attribute pseudonyms the fine-tune upserts and the signed
// ui-filter read. Light activities, on the `veil` queue.
import { jobSearchPseudonyms } from './pseudonyms.ts';
import { jobsUiFilter } from './ui-filter.ts';

export function jobActivities() {
  return { jobSearchPseudonyms, jobsUiFilter };
}

export type JobActivities = ReturnType<typeof jobActivities>;
export { UI_FILTER_ACTION, type UiFilterAnswer } from './ui-filter.ts';
export { pseudonymOf, type JobPseudonyms } from './pseudonyms.ts';
