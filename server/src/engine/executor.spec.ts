import { HttpError, ProviderError } from '@switchboard/connectors';
import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors/app-error';
import type { Step } from '../flows/definition/flow-definition.schema';
import { Bindings, classify, Effects, Executor, idempotencyKeyFor, ModelAnswer, Park, StepFailure } from './executor';
import type { StepRecord } from './run.entity';

describe('idempotencyKeyFor', () => {
  const run = '7d0c3f0e-2b1a-4f5e-9c8d-1a2b3c4d5e6f';

  it('names the whole step path, loop indices included', () => {
    expect(idempotencyKeyFor(run, 'outer[1]/inner[0]/create')).toBe(`${run}:outer[1]/inner[0]/create`);
    expect(idempotencyKeyFor(run, 'outer[0]/inner[1]/create')).not.toBe(idempotencyKeyFor(run, 'outer[1]/inner[0]/create'));
  });

  it('hashes paths that would make the key longer than 255 characters, keeping keys distinct and stable', () => {
    const deep = (last: number) => `${Array.from({ length: 30 }, (_, i) => `level${i}[3]`).join('/')}/step[${last}]`;
    const a = idempotencyKeyFor(run, deep(0));
    expect(a.length).toBeLessThanOrEqual(255);
    expect(a.startsWith(`${run}:`)).toBe(true);
    expect(idempotencyKeyFor(run, deep(0))).toBe(a);
    expect(idempotencyKeyFor(run, deep(1))).not.toBe(a);
  });
});

describe('classify (the engine error classifier)', () => {
  it('retries what may pass (408, 429, 5xx, timeouts, an unreachable provider) and nothing else', () => {
    expect(classify(new HttpError('busy', 503))).toMatchObject({ code: 'http_503', retryable: true });
    expect(classify(new HttpError('slow down', 429))).toMatchObject({ code: 'http_429', retryable: true });
    expect(classify(new HttpError('bad', 400))).toMatchObject({ code: 'http_400', retryable: false });
    expect(classify(new ProviderError('channel_not_found', 'channel_not_found'))).toMatchObject({ code: 'provider_channel_not_found', retryable: false });
    expect(classify(new AppError('provider_timeout', 'late'))).toMatchObject({ code: 'provider_timeout', retryable: true });
    expect(classify(new AppError('not_found', 'gone'))).toMatchObject({ code: 'not_found', retryable: false });
    expect(classify(new StepFailure('invalid_input', 'no', 'x'))).toMatchObject({ code: 'invalid_input', retryable: false });
    expect(classify(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toMatchObject({ code: 'step_error', retryable: true });
    expect(classify('a string')).toMatchObject({ code: 'step_error', message: 'a string', retryable: false });
  });
});

/** Effects recorded in memory: what the executor asked for, in order. */
function fakeEffects(options: { action?: (action: string, input: unknown, attempt: number) => unknown; answers?: ModelAnswer[]; approval?: 'pending' | boolean } = {}) {
  const calls: Array<{ action: string; input: unknown }> = [];
  const checkpoints: StepRecord[][] = [];
  const modelCalls: number[] = [];
  let attempts = 0;
  const effects: Effects = {
    prepare: async () => ({ definition: { actions: { send: { retrySafe: false } } as never } }),
    connector: async () => ({
      name: 'Chat',
      actions: {
        send: {
          name: 'Send',
          description: 'Sends',
          readOnly: false,
          retrySafe: false,
          input: { type: 'object', required: ['text'], properties: { text: { type: 'string', title: 'Text' } } },
          output: {},
          run: async () => null,
        },
        find: { name: 'Find', description: 'Finds', readOnly: true, retrySafe: true, input: { type: 'object' }, output: {}, run: async () => null },
      },
    }),
    model: async (call) => {
      modelCalls.push(call.messages.length);
      const answer = options.answers?.[modelCalls.length - 1];
      if (!answer) throw new Error('no more scripted answers');
      return answer;
    },
    action: async (_connector, _key, action, input) => {
      calls.push({ action, input });
      return options.action ? options.action(action, input, ++attempts) : { ok: true };
    },
    request: async () => ({ status: 200, headers: {}, body: null }),
    optionLabels: async () => ({}),
    approval: async () =>
      options.approval === 'pending'
        ? { pending: 'apr_1' }
        : { approved: options.approval ?? true, decidedBy: 'alice', decidedVia: 'end_user', comment: null, decidedAt: new Date(0).toISOString() },
    checkpoint: async (records) => {
      checkpoints.push(structuredClone(records));
      return true;
    },
  };
  return { effects, calls, checkpoints, modelCalls };
}

const bindings = (): Bindings => ({
  trigger: {},
  inputs: {},
  steps: {},
  endUser: { id: 'u', externalId: 'u', displayName: null, email: null, metadata: {} },
  run: { id: 'r', startedAt: new Date(0).toISOString() },
});
const identity = async (template: unknown) => template;
const limits = () => ({ cancelled: new AbortController().signal, deadline: Date.now() + 60_000, timeoutMs: 60_000 });
const executor = (effects: Effects, done: StepRecord[] = []) => new Executor('run-1', bindings(), identity, effects, new Map(done.map((r) => [r.path, r])), limits());
const answer = (fields: Partial<ModelAnswer>): ModelAnswer => ({
  text: '',
  toolCalls: [],
  finishReason: 'stop',
  usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
  model: 'm',
  ...fields,
});

describe('Executor: action steps', () => {
  const send: Step = { id: 'post', type: 'action', connector: 'chat', action: 'send', input: { text: 'hi' }, retry: { attempts: 3, backoff: { initialMs: 1, maxMs: 2 } } };

  it('writes the step as in flight before the call, retries a 503 and records the attempts', async () => {
    const fx = fakeEffects({ action: (_a, _i, attempt) => (attempt === 1 ? Promise.reject(new HttpError('busy', 503)) : { ts: '1' }) });
    const run = executor(fx.effects);
    await expect(run.execute([send])).resolves.toEqual({ result: { ts: '1' } });
    expect(fx.checkpoints[0]).toEqual([expect.objectContaining({ path: 'post', status: 'running', idempotencyKey: 'run-1:post' })]);
    expect(run.timeline).toEqual([expect.objectContaining({ path: 'post', status: 'succeeded', attempts: 2, output: { ts: '1' } })]);
  });

  it('does not retry a 400, and fails the step with the provider answer', async () => {
    const fx = fakeEffects({ action: () => Promise.reject(new HttpError('bad channel', 400)) });
    const failure = await executor(fx.effects)
      .execute([send])
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(StepFailure);
    expect(failure).toMatchObject({ code: 'http_400', path: 'post' });
    expect(fx.calls).toHaveLength(1);
  });

  it('never repeats a step that succeeded in an earlier execution', async () => {
    const fx = fakeEffects();
    const done: StepRecord[] = [{ path: 'post', id: 'post', type: 'action', status: 'succeeded', attempts: 1, startedAt: '', durationMs: 1, output: { ts: 'old' } }];
    await expect(executor(fx.effects, done).execute([send])).resolves.toEqual({ result: { ts: 'old' } });
    expect(fx.calls).toEqual([]);
  });
});

describe('Executor: agent steps', () => {
  const agent = (extra: Record<string, unknown> = {}): Step =>
    ({ id: 'triage', type: 'agent', provider: 'p', instructions: 'Help.', input: 'ticket', tools: ['chat.find', 'chat.send'], ...extra }) as Step;

  it('loops model → tools → model, each a sub-step, and answers the final text', async () => {
    const fx = fakeEffects({
      answers: [
        answer({
          toolCalls: [
            { id: 'c1', name: 'chat_find', input: {} },
            { id: 'c2', name: 'chat_send', input: { text: 'x' } },
          ],
        }),
        answer({ text: 'done' }),
      ],
    });
    const run = executor(fx.effects);
    await expect(run.execute([agent()])).resolves.toMatchObject({ result: { answer: 'done', modelCalls: 2, toolCalls: 2, usage: { totalTokens: 30 } } });
    expect(run.timeline.map((r) => [r.path, r.type, r.status])).toEqual([
      ['triage', 'agent', 'succeeded'],
      ['triage/turn[0]', 'model', 'succeeded'],
      ['triage/turn[0]/call[0]', 'tool', 'succeeded'],
      ['triage/turn[0]/call[1]', 'tool', 'succeeded'],
      ['triage/turn[1]', 'model', 'succeeded'],
    ]);
    expect(fx.calls.map((c) => c.action)).toEqual(['find', 'send']);
    // The second model call sees the first answer and both results: user, assistant, tool.
    expect(fx.modelCalls).toEqual([1, 3]);
  });

  it('resumes from the timeline: finished model and tool calls are replayed, never made again', async () => {
    const script = [answer({ toolCalls: [{ id: 'c1', name: 'chat_send', input: { text: 'x' } }] }), answer({ text: 'done' })];
    const first = fakeEffects({ answers: script });
    const run = executor(first.effects);
    await run.execute([agent()]);
    // A crash after the tool call: the timeline up to it (the final model call not yet made).
    const upToTool = run.timeline.filter((r) => r.path !== 'triage/turn[1]' && r.path !== 'triage');
    const again = fakeEffects({ answers: [script[1]!] });
    await expect(executor(again.effects, upToTool).execute([agent()])).resolves.toMatchObject({ result: { answer: 'done' } });
    expect(again.calls).toEqual([]);
    expect(again.modelCalls).toEqual([3]);
  });

  it('parks on a gated call and tells the model when the call was rejected', async () => {
    const gated = agent({ approve: ['chat.send'] });
    const script = [answer({ toolCalls: [{ id: 'c1', name: 'chat_send', input: { text: 'x' } }] }), answer({ text: 'not sent' })];
    const pending = fakeEffects({ answers: script, approval: 'pending' });
    const parked = executor(pending.effects);
    await expect(parked.execute([gated])).rejects.toBeInstanceOf(Park);
    expect(parked.timeline.find((r) => r.path === 'triage/turn[0]/call[0]')).toMatchObject({ status: 'waiting', output: { approvalId: 'apr_1' } });
    expect(pending.calls).toEqual([]);

    const rejected = fakeEffects({ answers: script, approval: false });
    const run = executor(rejected.effects);
    await expect(run.execute([gated])).resolves.toMatchObject({ result: { answer: 'not sent' } });
    expect(rejected.calls).toEqual([]);
    expect(run.timeline.find((r) => r.path === 'triage/turn[0]/call[0]')).toMatchObject({ status: 'skipped', error: { code: 'approval_rejected' } });
  });

  it('refuses arguments that do not fit the action, without calling it', async () => {
    const fx = fakeEffects({ answers: [answer({ toolCalls: [{ id: 'c1', name: 'chat_send', input: {} }] }), answer({ text: 'ok' })] });
    const run = executor(fx.effects);
    await run.execute([agent()]);
    expect(fx.calls).toEqual([]);
    expect(run.timeline.find((r) => r.type === 'tool')).toMatchObject({
      status: 'failed',
      error: { code: 'invalid_tool_input', message: expect.stringContaining("must have required property 'text'") },
    });
  });

  it('fails with the budget it ran out of', async () => {
    const loop = answer({ toolCalls: [{ id: 'c', name: 'chat_find', input: {} }] });
    const iterations = await executor(fakeEffects({ answers: [loop, loop, loop] }).effects)
      .execute([agent({ maxIterations: 2 })])
      .catch((e: unknown) => e);
    expect(iterations).toMatchObject({ code: 'agent_iterations_exhausted', path: 'triage' });
    const tokens = await executor(fakeEffects({ answers: [loop, loop] }).effects)
      .execute([agent({ maxTokens: 10 })])
      .catch((e: unknown) => e);
    expect(tokens).toMatchObject({ code: 'agent_tokens_exhausted' });
  });
});
