#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AppError } from '../common/errors/app-error';
import { readConfigOrExit } from '../config/read-config';
import { migrateDown, migrateUp, migrationStatus } from '../database/migrate';
import { bootstrapTenant } from './bootstrap-tenant';
import { runLocalStack } from './local-stack';

const USAGE = `Usage: switchboard <command>

  migrate up                  apply pending migrations (DATABASE_URL)
  migrate down [--steps N]    revert the last N migrations (default 1; --all for every one)
  migrate status              list migrations and whether each is applied
  create-tenant --name NAME --email EMAIL [--slug SLUG] [--password PW] [--api-key KEY_NAME]
                              create a tenant and its owner (prints a generated password if none given)
  vault rotate                re-encrypt every stored secret under MASTER_KEY (old keys in MASTER_KEY_PREVIOUS)
  demo                        run everything locally (embedded PostgreSQL unless DATABASE_URL is set)
  dev                         like demo, recompiling and restarting on changes`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'migrate': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { steps: { type: 'string' }, all: { type: 'boolean' } } });
      const url = process.env.DATABASE_URL;
      if (!url) return fail('DATABASE_URL is required, e.g. postgres://postgres@127.0.0.1:5432/switchboard');
      const direction = positionals[0] ?? 'up';
      if (direction === 'up') {
        const applied = await migrateUp(url);
        console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Nothing to apply.');
      } else if (direction === 'down') {
        const steps = values.all ? Infinity : Number(values.steps ?? 1);
        if (!Number.isInteger(steps) && steps !== Infinity) return fail('--steps must be a whole number');
        console.log(`Reverted ${await migrateDown(url, steps)} migration(s).`);
      } else if (direction === 'status') {
        for (const m of await migrationStatus(url)) console.log(`${m.applied ? '[x]' : '[ ]'} ${m.name}`);
      } else {
        return fail(`Unknown migrate direction "${direction}"\n\n${USAGE}`);
      }
      return 0;
    }
    case 'create-tenant': {
      const { values } = parseArgs({
        args: rest,
        options: { name: { type: 'string' }, email: { type: 'string' }, slug: { type: 'string' }, password: { type: 'string' }, 'api-key': { type: 'string' } },
      });
      if (!values.name || !values.email) return fail(`--name and --email are required\n\n${USAGE}`);
      const result = await bootstrapTenant(readConfigOrExit(), {
        tenantName: values.name,
        slug: values.slug,
        email: values.email,
        password: values.password,
        apiKeyName: values['api-key'],
      });
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    case 'vault': {
      if (rest[0] !== 'rotate') return fail(`Unknown vault command "${rest[0] ?? ''}"\n\n${USAGE}`);
      const config = readConfigOrExit();
      const [{ DataSource }, { Vault }, { rotateVault }] = await Promise.all([import('typeorm'), import('../vault/vault.js'), import('../vault/rotate.js')]);
      const db = new DataSource({ type: 'postgres', url: config.database.url });
      await db.initialize();
      try {
        const vault = new Vault(config.masterKey, config.previousMasterKeys);
        const total = await rotateVault(db, vault, (line) => console.log(line));
        console.log(`Done: ${total} value(s) now under key ${vault.currentKeyId}.`);
      } finally {
        await db.destroy();
      }
      return 0;
    }
    case 'demo':
    case 'dev':
      await runLocalStack(command);
      return -1; // keeps running until Ctrl-C
    default:
      return fail(command ? `Unknown command "${command}"\n\n${USAGE}` : USAGE);
  }
}

function fail(message: string): number {
  process.stderr.write(`${message}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    // A domain error is the operator's to fix (a taken slug, say): its message is enough.
    const text = error instanceof AppError ? `${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${text}\n`);
    process.exit(1);
  },
);
