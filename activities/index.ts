export { assessColumnMissingness, ingestData, recodeMissingCodes, splitByRowMissingness } from './cleaning';
export { compareSegments, encodeFeatures, fitFinalKMeans, fitPca, imputeAndScale, mapCustomers, sweepK } from './modelling';
export { publishResults } from './report';
export { compareWithPreviousRun } from './drift';
