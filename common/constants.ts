/** Names shared by the workflow, the worker, the CLI and the tests. Importable from workflow code (no Node APIs). */
export const TASK_QUEUE = 'customer-segments';
export const WORKFLOW_TYPE = 'segmentation';
export const WORKFLOW_ID_PREFIX = 'segmentation';

/** Custom search attributes the project registers on the server and upserts as a run advances. */
export const SEARCH_ATTRIBUTES = {
  dataset: { name: 'SegmentsDataset', type: 'Keyword' },
  runMonth: { name: 'SegmentsRunMonth', type: 'Keyword' },
  stage: { name: 'SegmentsStage', type: 'Keyword' },
  k: { name: 'SegmentsK', type: 'Int' },
  outcome: { name: 'SegmentsOutcome', type: 'Keyword' },
} as const;

export const DEFAULT_NAMESPACE = 'default';
