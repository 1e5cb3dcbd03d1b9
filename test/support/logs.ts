/** Loggers for tests: one that writes nothing, and one whose records the test reads back. */
import { createLogger, type Logger } from '../../src/log';

/** Writes nothing. It holds no state, so every test and app may share it. */
export const silentLogger: Logger = createLogger('silent');

export interface CapturedLogs<Line = Record<string, unknown>> {
  /** The real logger (redaction and all) at the level asked for. */
  logger: Logger;
  /** Every record written so far, parsed, oldest first. */
  lines: Line[];
  /** The same records as written: one JSON text each, without the line break. */
  raw: string[];
  /** Everything written, one record a line. */
  text(): string;
}

/** A logger at `level` whose records are kept, as a log shipper would read them. */
export function captureLogs<Line = Record<string, unknown>>(level = 'info'): CapturedLogs<Line> {
  const lines: Line[] = [];
  const raw: string[] = [];
  const logger = createLogger(level, {
    write(chunk: string) {
      for (const line of chunk.split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Line);
      }
    },
  });
  return { logger, lines, raw, text: () => raw.join('\n') };
}
