/** What the entry points (server, standalone worker) share: config errors, graceful shutdown, fatal start. */
import { ConfigError, loadConfig, type Config } from '../config/config';
import type { Logger } from './logger';

/** Loads the config (optionally checked further); a bad value exits 2 with a message naming the variable. */
export function loadConfigOrExit(check: (c: Config) => void = () => {}): Config {
  try {
    const config = loadConfig();
    check(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** On the first SIGTERM/SIGINT: run `stop`, then exit 0 (1 if stopping failed). */
export function stopOnSignals(logger: Logger, what: string, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${what} shutting down`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Runs an entry point; a failure to start is one JSON line on stderr and exit 1. */
export function runMain(main: () => Promise<void>, failure: string): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: failure, err: String(err instanceof Error ? err.stack : err) })}\n`);
    process.exit(1);
  });
}
