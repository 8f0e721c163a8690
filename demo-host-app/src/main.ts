#!/usr/bin/env node
import { startAcmeCrm } from './server';

/** `node dist/main.js`: Acme CRM configured from the environment (`npm run demo` sets all of it). */
async function main(): Promise<void> {
  const secretKey = process.env.SWITCHBOARD_SECRET_KEY;
  if (!secretKey) throw new Error('SWITCHBOARD_SECRET_KEY is required: a secret key (sk_…) of the Acme CRM tenant');
  const port = Number(process.env.DEMO_APP_PORT || 4020);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`DEMO_APP_PORT must be a port number, got "${process.env.DEMO_APP_PORT}"`);
  const app = await startAcmeCrm({
    switchboardUrl: process.env.SWITCHBOARD_URL || 'http://localhost:3000',
    secretKey,
    webhookSecret: process.env.SWITCHBOARD_WEBHOOK_SECRET || undefined,
    port,
    host: process.env.DEMO_APP_HOST || '127.0.0.1',
    dataFile: process.env.ACME_DATA_FILE || undefined,
  });
  process.stdout.write(`acme-crm: listening on ${app.url}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Started by the local runner over IPC: go when it goes, however it went.
  process.on('disconnect', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`acme-crm: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
