import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Runs `body` in a fresh Node process with the policy installed (from the compiled dist/). */
function withPolicy(body: string) {
  const dist = join(__dirname, '..', 'dist', 'process-safety.js');
  const script = `
    const { installProcessSafety, unhandledRejections } = require(${JSON.stringify(dist)});
    const line = (level) => (fields, msg) => console.log(JSON.stringify({ level, msg, err: String(fields.err && fields.err.message) }));
    installProcessSafety({ warn: line('warn'), error: line('error'), fatal: line('fatal') });
    ${body}`;
  const result = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
  return {
    code: result.status,
    lines: result.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('process safety policy', () => {
  it('logs and counts an unhandled rejection, and the process goes on', () => {
    const { code, lines } = withPolicy(`
      Promise.reject(new Error('nobody awaited me'));
      setTimeout(() => console.log(JSON.stringify({ msg: 'still here', count: unhandledRejections.total })), 100);`);
    expect(code).toBe(0);
    expect(lines).toEqual([
      { level: 'error', msg: 'unhandled promise rejection (the process goes on)', err: 'nobody awaited me' },
      { msg: 'still here', count: 1 },
    ]);
  });

  it('logs an outage rejection as a warning', () => {
    const { lines } = withPolicy(`Promise.reject(new Error('Connection terminated unexpectedly'));`);
    expect(lines[0]).toMatchObject({ level: 'warn', err: 'Connection terminated unexpectedly' });
  });

  it('exits with 1 after an uncaught exception, once it is logged', () => {
    const { code, lines } = withPolicy(`
      setTimeout(() => { throw new Error('half-done'); }, 10);
      setInterval(() => undefined, 1000);`);
    expect(code).toBe(1);
    expect(lines).toEqual([{ level: 'fatal', msg: 'uncaught exception: exiting', err: 'half-done' }]);
  });
});
