/** The search attributes a segmentation run carries in Temporal visibility (workflow-safe: no Node APIs). */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../common/constants';

export const SEARCH_KEYS = {
  dataset: defineSearchAttributeKey(SEARCH_ATTRIBUTES.dataset.name, SearchAttributeType.KEYWORD),
  runMonth: defineSearchAttributeKey(SEARCH_ATTRIBUTES.runMonth.name, SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey(SEARCH_ATTRIBUTES.stage.name, SearchAttributeType.KEYWORD),
  k: defineSearchAttributeKey(SEARCH_ATTRIBUTES.k.name, SearchAttributeType.INT),
  outcome: defineSearchAttributeKey(SEARCH_ATTRIBUTES.outcome.name, SearchAttributeType.KEYWORD),
};
