/**
 * Errors that mean "the input is wrong": retrying cannot help, so activities turn them into
 * non-retryable ApplicationFailures. The message names file, column and line where known.
 */
export interface InputErrorLocation {
  file?: string;
  column?: string;
  /** 1-based line number in the file (header = line 1). */
  line?: number;
}

export class InputError extends Error {
  readonly location: InputErrorLocation;
  constructor(message: string, location: InputErrorLocation = {}) {
    super(formatInputError(message, location));
    this.name = 'InputError';
    this.location = location;
  }
}

function formatInputError(message: string, { file, column, line }: InputErrorLocation): string {
  const where = [file && `file ${file}`, line !== undefined && `line ${line}`, column && `column ${column}`]
    .filter(Boolean)
    .join(', ');
  return where ? `${where}: ${message}` : message;
}

/** Bad configuration (k range, thresholds, paths): also not retryable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
