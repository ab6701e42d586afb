/** Entry point: config → app; graceful shutdown on SIGTERM/SIGINT. Wiring only. */
import 'reflect-metadata';
import { startApp } from './app';
import { createLogger } from './common/logger';
import { loadConfigOrExit, runMain, stopOnSignals } from './common/process-lifecycle';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const app = await startApp(config, logger);
  stopOnSignals(logger, 'server', () => app.stop());
}

runMain(main, 'startup failed');
