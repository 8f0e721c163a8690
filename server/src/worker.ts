import 'reflect-metadata';
import pino from 'pino';
import { readConfigOrExit } from './config/read-config';
import { keepHeapLean, loadWithLazyDateFormats } from './process-memory';
import { installProcessSafety } from './process-safety';

async function main(): Promise<void> {
  // Started by `switchboard demo|dev` over IPC: stop when that parent goes away, however it went.
  if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  keepHeapLean();
  const config = readConfigOrExit();
  installProcessSafety(pino({ level: config.logLevel }));
  const started = performance.now();
  // Loaded after the configuration is known good, so a bad environment fails in milliseconds.
  const [{ NestFactory }, { Logger }, { WorkerModule }] = await loadWithLazyDateFormats(() =>
    Promise.all([import('@nestjs/core'), import('nestjs-pino'), import('./worker.module.js')]),
  );
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  app.get(Logger).log(`Switchboard worker ready (booted in ${Math.round(performance.now() - started)} ms)`);
}

// A failed boot exits; after boot, see installProcessSafety.
main().catch((error: unknown) => {
  console.error('Switchboard worker failed to start:', error);
  process.exit(1);
});
