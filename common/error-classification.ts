/**
 * Which failures a retry can fix. Temporal retries an activity's plain errors; that is right for a lost
 * connection, a busy file or a full disk being cleaned up, and wrong for a path the user must fix or data that
 * will fail the same way every time. `classifyError` turns the second kind into errors the activities report
 * as non-retryable failures, each naming the path (and the file, column and line where the data is at fault).
 */
import { ConfigError, InputError } from './errors';

/** A path the process cannot use as asked (permissions, missing folders, a file where a folder should be). */
export class PathError extends Error {
  constructor(
    message: string,
    readonly path: string | undefined,
    readonly code: string,
  ) {
    super(message);
    this.name = 'PathError';
  }
}

/** Data the engine cannot compute with (a value out of range, a failed conversion, a file that is not what it says). */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** errno codes that mean "this path cannot be used like that": the same on every attempt. */
const PATH_CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder, not a file',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many symbolic links',
  EEXIST: 'already exists',
  EXDEV: 'crosses file systems',
  EINVAL: 'invalid argument for this file system',
  ENOTEMPTY: 'folder not empty',
};

/** errno codes a later attempt (maybe on another worker) can get past. */
export const TRANSIENT_CODES = new Set(['ENOSPC', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EINTR', 'EIO', 'ETIMEDOUT', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOMEM']);

/**
 * DuckDB error classes (the message prefix before ': ') that mean the data or a file is wrong. The engine's own
 * transient classes (Out of Memory, Interrupt, and IO errors other than the path ones below) stay retryable.
 */
const DUCKDB_DATA_CLASSES = ['Out of Range Error', 'Conversion Error', 'Invalid Input Error', 'Invalid Error', 'Mismatch Type Error'];

/** DuckDB IO errors that name a path problem rather than a passing one. */
const DUCKDB_PATH_PATTERNS: [RegExp, string][] = [
  [/Permission denied/i, 'EACCES'],
  [/Operation not permitted/i, 'EPERM'],
  [/No such file or directory|does not exist|No files found that match/i, 'ENOENT'],
  [/Not a directory/i, 'ENOTDIR'],
  [/Is a directory/i, 'EISDIR'],
  [/Read-only file system/i, 'EROFS'],
];

export interface ErrorContext {
  /** What was being done, for the message ("reading the recode checkpoint of …"). */
  doing?: string;
}

/** Already classified: the activities map these to non-retryable failures. */
export function isClassified(error: unknown): boolean {
  return error instanceof InputError || error instanceof ConfigError || error instanceof PathError || error instanceof DataError;
}

/**
 * Returns a PathError / DataError for failures no retry fixes, or the error itself (transient or unknown: retry).
 * The message keeps the original text and names the path.
 */
export function classifyError(error: unknown, context: ErrorContext = {}): unknown {
  // Duck-typed: errors from Node's own modules and from DuckDB may come from another realm (jest's vm contexts).
  if (typeof error !== 'object' || error === null || typeof (error as Error).message !== 'string' || isClassified(error)) return error;
  const doing = context.doing ? ` while ${context.doing}` : '';
  const errno = error as NodeJS.ErrnoException;
  if (typeof errno.code === 'string' && errno.code in PATH_CODES) {
    const path = errno.path ?? (errno as { dest?: string }).dest;
    const target = path ? `${path}: ` : '';
    return new PathError(`${target}${errno.code} (${PATH_CODES[errno.code]})${doing}${errno.syscall ? ` [${errno.syscall}]` : ''}`, path, errno.code);
  }
  const message = (error as Error).message;
  const duckClass = /^([A-Z][A-Za-z ]+ Error): /.exec(message)?.[1];
  if (duckClass === 'IO Error' || duckClass === 'Permission Error') {
    const found = DUCKDB_PATH_PATTERNS.find(([pattern]) => pattern.test(message));
    if (found || duckClass === 'Permission Error') {
      const path = /"([^"]+)"|'([^']+)'/.exec(message);
      // The first line only: DuckDB appends the query with a caret, which is noise in a one-line message.
      return new PathError(`${message.split('\n')[0]}${doing}`, path?.[1] ?? path?.[2], found?.[1] ?? 'EACCES');
    }
    return error;
  }
  if (duckClass && DUCKDB_DATA_CLASSES.includes(duckClass)) return new DataError(`${message}${doing}`);
  return error;
}
