/** Activity type → analysis step, to name the failing step in failure lines. */
export const ACTIVITY_STEPS: Record<string, string> = {
  ingestData: 'ingest',
  recodeMissingCodes: 'recode',
  assessColumnMissingness: 'missingness',
  splitByRowMissingness: 'split',
  encodeFeatures: 'encode',
  imputeAndScale: 'scale',
  fitPca: 'pca',
  sweepK: 'sweep',
  measureStability: 'sweep',
  chooseClusterCount: 'sweep',
  fitFinalKMeans: 'kmeans',
  mapCustomers: 'map',
  compareSegments: 'compare',
  compareWithPreviousRun: 'drift',
  publishResults: 'report',
};
