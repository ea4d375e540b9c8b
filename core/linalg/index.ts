/** Numeric core: covariance/PCA, k-means, silhouette, knee, Hungarian. See each module's header. */
export * from './types';
export * from './prng';
export * from './covariance';
export {
  pcaFromCovariance,
  chooseComponentCount,
  projectRows,
  projectRowsRange,
  inverseProject,
  interpretComponent,
  checkProjection,
  PROJECT_BLOCK_ROWS,
} from './pca';
export type { PcaModel, ComponentCountOptions, FeatureWeight } from './pca';
export * from './kmeans';
export * from './silhouette';
export * from './knee';
export * from './hungarian';
