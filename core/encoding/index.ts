/** Step 2 (encoding) and step 3's input (imputation, scaling, float-matrix export). */
export * from './model';
export * from './sql';
export * from './fit';
export * from './impute-scale';
export * from './matrix';
export * from './inverse';
export * from './cluster-means';
export * from './rare-levels';
export * from './coded-scale';
