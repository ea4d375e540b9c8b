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
  // config continuity.keepPreviousK: read before the sweep's fits, within the sweep step (it settles k).
  inspectPreviousRun: 'sweep',
  measureStability: 'sweep',
  chooseClusterCount: 'sweep',
  fitFinalKMeans: 'kmeans',
  mapCustomers: 'map',
  compareSegments: 'compare',
  compareWithPreviousRun: 'drift',
  publishResults: 'report',
};
