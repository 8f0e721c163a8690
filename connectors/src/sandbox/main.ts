#!/usr/bin/env node
/**
 * `npm run sandbox -w connectors` (or `node connectors/dist/sandbox/main.js`): starts the sandbox
 * providers on SANDBOX_PORT (default 4010) and SANDBOX_HOST (default 127.0.0.1), prints the URL.
 * With SANDBOX_STATE_FILE, issued tokens and provider data survive a restart (kept in that file);
 * with SANDBOX_CHURN_SECONDS, each provider changes its data (and sends its webhooks) that often.
 */
import { SANDBOX_CREDENTIALS, startSandbox } from './index';

async function main(): Promise<void> {
  const portText = process.env.SANDBOX_PORT ?? '4010';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`SANDBOX_PORT must be a port number (0-65535), got "${portText}"\n`);
    process.exit(1);
  }
  const ttl = process.env.SANDBOX_TOKEN_TTL_SECONDS;
  const sandbox = await startSandbox({
    port,
    host: process.env.SANDBOX_HOST ?? '127.0.0.1',
    publicUrl: process.env.SANDBOX_PUBLIC_URL || undefined,
    tokenTtlSeconds: ttl ? Number(ttl) : undefined,
    stateFile: process.env.SANDBOX_STATE_FILE || undefined,
    churnSeconds: process.env.SANDBOX_CHURN_SECONDS ? Number(process.env.SANDBOX_CHURN_SECONDS) : undefined,
  });
  process.stdout.write(
    [
      `Sandbox providers listening on ${sandbox.url}`,
      `  OAuth client: ${SANDBOX_CREDENTIALS.client.clientId} / ${SANDBOX_CREDENTIALS.client.clientSecret}`,
      `  Stripe key:   ${SANDBOX_CREDENTIALS.stripe.apiKey}`,
      `  HTTP API:     ${sandbox.url}/http (API key ${SANDBOX_CREDENTIALS.http.apiKey})`,
      `  Index:        ${sandbox.url}/   Calls: ${sandbox.url}/_sandbox/calls`,
      `  LLM (OpenAI-compatible, scripted): ${sandbox.llmUrl}   Scripts: PUT ${sandbox.url}/_sandbox/llm/scripts/:model`,
      '',
    ].join('\n'),
  );
  const stop = () => {
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`Sandbox failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
