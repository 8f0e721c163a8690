import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { readConfigOrExit } from './config/read-config';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  // Started by `switchboard demo|dev` over IPC: stop when that parent goes away, however it went.
  if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  const config = readConfigOrExit();
  const started = performance.now();
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.init();
  app.get(Logger).log(`Switchboard worker ready (booted in ${Math.round(performance.now() - started)} ms)`);
}

void main();
