import { describe, expect, it } from 'vitest';
import { finishedRunId, publishRunFinished, RunFinished } from './run-events';

/** What publishRunFinished sends, captured from a stand-in for the Redis client. */
function published(event: RunFinished): string {
  let message = '';
  const redis = { publish: (_channel: string, text: string) => ((message = text), Promise.resolve(1)) };
  void publishRunFinished(redis as never, 'sb', event);
  return message;
}

describe('run finish messages', () => {
  const runId = '0b9c6f1e-2f4d-4c1a-9a53-6d2f0f6c1e11';

  it('name their run at the start, whatever order the event was built in', () => {
    const event = { status: 'succeeded', run: { id: runId, result: { text: '"runId":"someone-else"' } }, runId } as RunFinished;
    const message = published(event);
    expect(finishedRunId(message)).toBe(runId);
    expect(JSON.parse(message)).toEqual(event);
  });

  it('answer null for a message not written that way, which the waiter then parses in full', () => {
    expect(finishedRunId(JSON.stringify({ status: 'failed', runId }))).toBeNull();
    expect(finishedRunId('not json')).toBeNull();
  });
});
