/**
 * Makes a namespace ready for the project: retention long enough to audit a year of monthly runs,
 * and the custom search attributes the workflow upserts. Idempotent; works on the embedded dev
 * server and on an external server (given the rights).
 *
 * Registration goes through the client's OperatorService rather than `--search-attribute` flags,
 * because the dev server ignores those once its database file exists.
 */
import type { Connection } from '@temporalio/client';
import { msNumberToTs } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../common/constants';
import { LogSink, toLogger } from './log';

export type SearchAttributeTypeName = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** temporal.api.enums.v1.IndexedValueType, whose numbers are fixed by the wire protocol. */
export const INDEXED_VALUE_TYPE: Record<SearchAttributeTypeName, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

export function indexedValueTypeName(value: number | null | undefined): SearchAttributeTypeName | undefined {
  return (Object.keys(INDEXED_VALUE_TYPE) as SearchAttributeTypeName[]).find((k) => INDEXED_VALUE_TYPE[k] === value);
}

/** The project's custom search attributes as name → type. */
export function projectSearchAttributes(): Record<string, SearchAttributeTypeName> {
  return Object.fromEntries(Object.values(SEARCH_ATTRIBUTES).map((a) => [a.name, a.type as SearchAttributeTypeName]));
}

/** 400 days: a year of monthly runs plus a margin for the audit. */
export const DEFAULT_RETENTION_DAYS = 400;
const DAY_SECONDS = 86_400;

export interface NamespaceSetupOptions {
  namespace: string;
  /** Raise the namespace's retention to at least this many days; omit to leave it alone. */
  retentionDays?: number;
  /** name → type; defaults to the project's search attributes. */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  log?: LogSink;
}

export interface NamespaceSetupResult {
  retentionDays: number | undefined;
  createdSearchAttributes: string[];
}

export class SearchAttributeConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchAttributeConflictError';
  }
}

function secondsOf(d: { seconds?: unknown } | null | undefined): number | undefined {
  if (!d || d.seconds === undefined || d.seconds === null) return undefined;
  return Number(d.seconds as number | { toString(): string });
}

/** Lists the namespace's custom search attributes as name → type name. */
export async function listCustomSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<Record<string, SearchAttributeTypeName | 'Unknown'>> {
  const res = await connection.operatorService.listSearchAttributes({ namespace });
  const out: Record<string, SearchAttributeTypeName | 'Unknown'> = {};
  for (const [name, type] of Object.entries(res.customAttributes ?? {})) {
    out[name] = indexedValueTypeName(type as number) ?? 'Unknown';
  }
  return out;
}

/** The namespace's workflow execution retention in days (fractional), if set. */
export async function getRetentionDays(connection: Connection, namespace: string): Promise<number | undefined> {
  const res = await connection.workflowService.describeNamespace({ namespace });
  const seconds = secondsOf(res.config?.workflowExecutionRetentionTtl);
  return seconds === undefined ? undefined : seconds / DAY_SECONDS;
}

export async function ensureNamespaceSetup(connection: Connection, options: NamespaceSetupOptions): Promise<NamespaceSetupResult> {
  const log = toLogger(options.log);
  const { namespace } = options;

  let retentionDays = await getRetentionDays(connection, namespace);
  if (options.retentionDays !== undefined && (retentionDays === undefined || retentionDays < options.retentionDays)) {
    await connection.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msNumberToTs(options.retentionDays * DAY_SECONDS * 1000) },
    });
    retentionDays = await getRetentionDays(connection, namespace);
    log.info(`Namespace ${namespace}: retention set to ${retentionDays} days`);
  }

  const wanted = options.searchAttributes ?? projectSearchAttributes();
  const createdSearchAttributes: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const existing = await listCustomSearchAttributes(connection, namespace);
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(wanted)) {
      const have = existing[name];
      if (have === undefined) missing[name] = INDEXED_VALUE_TYPE[type];
      else if (have !== type) {
        throw new SearchAttributeConflictError(
          `Search attribute ${name} exists in namespace ${namespace} with type ${have}, but the project needs ${type}`,
        );
      }
    }
    if (Object.keys(missing).length === 0) break;
    if (attempt >= 3) throw new Error(`Could not register search attributes ${Object.keys(missing).join(', ')} in ${namespace}`);
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
      createdSearchAttributes.push(...Object.keys(missing));
      log.info(`Namespace ${namespace}: registered search attributes ${Object.keys(missing).join(', ')}`);
    } catch (err) {
      // Another process may have registered them at the same moment: list again and compare.
      if ((err as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw err;
    }
  }
  return { retentionDays, createdSearchAttributes };
}
