import type { EncodedFeature, EncodingModel } from './model';
import type { FittedTransform } from './model';

/** Standardised vector (length = features) back to encoded units: x * std + mean. */
export function inverseScale(vector: ArrayLike<number>, transform: FittedTransform): number[] {
  const features = transform.features;
  if (vector.length !== features.length) {
    throw new Error(`vector has ${vector.length} values, the transform ${features.length} features`);
  }
  const out = new Array<number>(features.length);
  for (let j = 0; j < features.length; j++) out[j] = vector[j] * features[j].std + features[j].mean;
  return out;
}

/** Encoded-unit vector to standardised units: (x - mean) / std (missing values are not expected here). */
export function forwardScale(vector: ArrayLike<number>, transform: FittedTransform): number[] {
  const features = transform.features;
  if (vector.length !== features.length) {
    throw new Error(`vector has ${vector.length} values, the transform ${features.length} features`);
  }
  const out = new Array<number>(features.length);
  for (let j = 0; j < features.length; j++) out[j] = (vector[j] - features[j].mean) / features[j].std;
  return out;
}

export interface FeatureSource {
  feature: string;
  index: number;
  /** The cleaned column it was encoded from. */
  source: string;
  kind: EncodedFeature['kind'];
  /** One-hot: the level this column indicates. */
  level?: string;
  /** Binary / derived: the value map from source codes. */
  map?: Record<string, number | null>;
  /** One line for a report, e.g. "CAMEO_DEUG_2015 = 8 (one-hot of CAMEO_DEUG_2015)". */
  text: string;
}

/** Which original column (and level) an encoded feature came from; by name or matrix column index. */
export function describeFeatureSource(model: EncodingModel, feature: string | number): FeatureSource {
  const index = typeof feature === 'number' ? feature : model.features.findIndex((candidate) => candidate.name === feature);
  const found = model.features[index];
  if (!found) throw new Error(`the encoding has no feature ${typeof feature === 'number' ? `#${feature}` : `"${feature}"`}`);
  let text: string;
  switch (found.kind) {
    case 'onehot':
      text = `${found.description} (one-hot of ${found.source})`;
      break;
    case 'numeric':
      text = `${found.source} as a number (${found.description})`;
      break;
    case 'binary':
      text = found.description;
      break;
    case 'derived':
    case 'flag':
      text = `${found.description} (derived from ${found.source})`;
      break;
  }
  return {
    feature: found.name,
    index,
    source: found.source,
    kind: found.kind,
    ...(found.level !== undefined ? { level: found.level } : {}),
    ...(found.map !== undefined ? { map: found.map } : {}),
    text,
  };
}
