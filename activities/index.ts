/** Every activity the worker registers, in pipeline order; one file per analysis step, each over core/steps or core/cleaning. */
export { assessColumnMissingness, ingestData, recodeMissingCodes, splitByRowMissingness } from './cleaning';
export { encodeFeatures } from './encode';
export { imputeAndScale } from './scale';
export { fitPca } from './pca';
export { chooseClusterCount, fitFinalKMeans, measureStability, sweepK } from './kmeans';
export { mapCustomers } from './map';
export { compareSegments } from './compare';
export { compareWithPreviousRun, inspectPreviousRun } from './drift';
export { publishResults } from './report';
