export * from './segmentation';
