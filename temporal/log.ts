/**
 * Minimal logging hook used by the Temporal helpers. Callers pass either a plain function
 * (`console.error`, a CLI printer) or an object with info/warn methods (a structured logger).
 */
export type LogFn = (message: string) => void;
export type LogSink = LogFn | { info(message: string): void; warn?(message: string): void };

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

const silent: Logger = { info: () => undefined, warn: () => undefined };

export function toLogger(sink: LogSink | undefined): Logger {
  if (!sink) return silent;
  if (typeof sink === 'function') {
    return { info: (m) => sink(m), warn: (m) => sink(`warning: ${m}`) };
  }
  return {
    info: (m) => sink.info(m),
    warn: (m) => (sink.warn ? sink.warn(m) : sink.info(`warning: ${m}`)),
  };
}
