/** Structured JSON logging through one injected pino logger. */
import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Logs go to stdout synchronously: the lines before a crash or a process.exit are the ones that
 * matter most, and Meridian logs little per request.
 */
export function createLogger(level: pino.LevelWithSilent, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { service: 'meridian', ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['authorization', 'headers.authorization', '*.apiKey', '*.password'], censor: '***' },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that discards everything, for tools and tests that do not care. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
