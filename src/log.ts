// Structured logs: one JSON object per line on stdout, with a level, a message and fields.

/** Log levels, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger: each method writes one line when its level is enabled. */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Something happened as expected. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something is wrong but the program carries on. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** An operation failed. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Whether a string names a log level. */
export function isLogLevel(value: string): value is LogLevel {
  return value in rank;
}

/** Lines for stdout not yet written, and whether process exit writes them. */
let pending: string[] = [];
let exitHooked = false;

/** Writes what is pending to stdout in one write. */
function flushStdout(): void {
  if (pending.length === 0) return;
  const text = pending.join('');
  pending = [];
  process.stdout.write(text);
}

/**
 * Queues a line for stdout and writes the queue once the current task ends: a node taking
 * over 5,000 VIPs logs a line for each, and one write per line was most of that work's CPU.
 * Lines keep their order, and process.exit() still writes them (the 'exit' handler).
 */
function writeStdout(line: string): void {
  if (pending.length === 0) {
    queueMicrotask(flushStdout);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', flushStdout);
    }
  }
  pending.push(line);
}

/** Creates a JSON-lines logger writing entries at `level` or above through `write` (stdout, batched per task). */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}, write: (line: string) => void = writeStdout): Logger {
  const emit = (entryLevel: LogLevel, message: string, fields: Record<string, unknown> = {}): void => {
    if (rank[entryLevel] < rank[level]) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: entryLevel, msg: message, ...base };
    for (const [key, value] of Object.entries(fields)) entry[key] = value instanceof Error ? value.message : value;
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
