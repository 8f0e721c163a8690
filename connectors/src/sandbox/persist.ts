import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { LlmSnapshot } from './llm';
import type { OAuthSnapshot } from './oauth';

/** What a sandbox keeps in its state file: issued tokens and every provider's data. */
export interface PersistedSandbox {
  version: 1;
  oauth: OAuthSnapshot;
  /** Provider key → its state (Slack channels and messages, HubSpot contacts…). */
  data: Record<string, unknown>;
  /** The sandbox model's scripts (absent in files written before it existed). */
  llm?: LlmSnapshot;
}

// Provider states hold a few Maps (idempotency keys, cursors); JSON has none.
const replacer = (_key: string, value: unknown) => (value instanceof Map ? { $map: [...value] } : value);
const reviver = (_key: string, value: unknown) =>
  value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && Array.isArray((value as { $map?: unknown }).$map)
    ? new Map((value as { $map: Array<[unknown, unknown]> }).$map)
    : value;

/** The saved state, or null when there is none yet. A file that cannot be read is reported and ignored (the sandbox starts fresh and overwrites it). */
export function readStateFile(file: string, warn: (message: string) => void): PersistedSandbox | null {
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8'), reviver) as PersistedSandbox;
    if (parsed?.version !== 1 || typeof parsed.oauth !== 'object' || typeof parsed.data !== 'object') throw new Error('not a sandbox state file (version 1)');
    return parsed;
  } catch (error) {
    warn(`Sandbox state file ${file} could not be read (${(error as Error).message}); starting with fresh tokens and data.`);
    return null;
  }
}

/** Written to a temporary file and renamed over the old one, so a crash mid-write never leaves half a file. Mode 0600: it holds tokens. */
export function writeStateFile(file: string, state: PersistedSandbox): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(state, replacer), { mode: 0o600 });
  renameSync(temporary, file);
}
