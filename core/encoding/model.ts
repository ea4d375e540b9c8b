/** The fitted encoding's shape lives with the other model files' contracts. */
import { EncodingModelSchema, type EncodingModel } from '../../schemas/model-files';

export {
  EncodedFeatureSchema,
  EncodingModelSchema,
  FEATURE_KINDS,
  FeatureKindSchema,
  FittedTransformSchema,
  OneHotGroupSchema,
  SourceColumnSchema,
  SqlTypeSchema,
  TransformFeatureSchema,
} from '../../schemas/model-files';
export type {
  EncodedFeature,
  EncodingModel,
  FeatureKind,
  FittedTransform,
  OneHotGroup,
  SourceColumn,
  SqlType,
  TransformFeature,
} from '../../schemas/model-files';

export function parseEncodingModel(input: unknown): EncodingModel {
  return EncodingModelSchema.parse(input);
}

/** Index of a feature by name; throws when the model has no such feature. */
export function featureIndex(model: EncodingModel, name: string): number {
  const index = model.features.findIndex((feature) => feature.name === name);
  if (index < 0) throw new Error(`the encoding has no feature "${name}"`);
  return index;
}
