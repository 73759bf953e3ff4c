// Every workflow Veil runs. The worker bundles this file once at start; workflow code is
// deterministic orchestration only: side effects live in activities/.
// Workflows (one export line each; keep alphabetical):
export { showAudit } from './audit.ts';
export { grantBudget, readBudgetBalance, readDatasetSpend } from './budget.ts';
export { registerOwnerCanaries, setAuditPolicy } from './canaries.ts';
export { catalog } from './catalog.ts';
export { fineTune } from './fine-tune/workflow.ts';
export { ingestDataset } from './ingest-dataset.ts';
export { modelDownload } from './model-download.ts';
export { sample } from './sample/workflow.ts';
export { expireStagedUpload, stageUpload } from './stage-upload.ts';
