import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox, startSandbox } from './index';
import { fillPlaceholders, placeholderContext, valueAt } from './llm';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => {
  await sandbox.close();
});
beforeEach(() => sandbox.reset());

const chat = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${sandbox.llmUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer anything', ...headers },
    body: JSON.stringify(body),
  });

const control = (method: string, path: string, body?: unknown) =>
  fetch(`${sandbox.url}/_sandbox/llm${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('sandbox model: chat completions', () => {
  it('answers turns[k] for k assistant messages, the last turn past the end, in the OpenAI shape', async () => {
    sandbox.scriptModel('m1', [{ content: 'first' }, { content: 'second' }]);
    const first = await chat({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
    expect(first.status).toBe(200);
    const body = (await first.json()) as any;
    expect(body).toMatchObject({
      id: 'chatcmpl-sandbox-0',
      object: 'chat.completion',
      model: 'm1',
      choices: [{ index: 0, message: { role: 'assistant', content: 'first' }, finish_reason: 'stop' }],
    });
    expect(body.choices[0].message.tool_calls).toBeUndefined();
    expect(typeof body.created).toBe('number');
    const conversation = (k: number) => [
      { role: 'user', content: 'hi' },
      ...Array.from({ length: k }, () => [
        { role: 'assistant', content: 'x' },
        { role: 'user', content: 'more' },
      ]).flat(),
    ];
    const second = (await (await chat({ model: 'm1', messages: conversation(1) })).json()) as any;
    expect(second.choices[0].message.content).toBe('second');
    const past = (await (await chat({ model: 'm1', messages: conversation(5) })).json()) as any;
    expect(past.choices[0].message.content).toBe('second');
    // The same conversation always gets the same answer.
    const again = (await (await chat({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] })).json()) as any;
    expect({ ...again, created: 0 }).toEqual({ ...body, created: 0 });
  });

  it('answers tool calls with deterministic ids, arguments as JSON text and finish_reason tool_calls', async () => {
    sandbox.scriptModel('tools', [
      {
        toolCalls: [
          { name: 'find', arguments: { q: 'ada', n: 2 } },
          { name: 'other', arguments: {} },
        ],
      },
      { content: 'done' },
    ]);
    const body = (await (
      await chat({ model: 'tools', messages: [{ role: 'user', content: 'go' }], tools: [{ type: 'function', function: { name: 'find', parameters: { type: 'object' } } }] })
    ).json()) as any;
    expect(body.choices[0]).toEqual({
      index: 0,
      logprobs: null,
      finish_reason: 'tool_calls',
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_0_0', type: 'function', function: { name: 'find', arguments: '{"q":"ada","n":2}' } },
          { id: 'call_0_1', type: 'function', function: { name: 'other', arguments: '{}' } },
        ],
      },
    });
  });

  it("fills {{placeholders}} from the input, each tool's latest result and the last tool result", async () => {
    sandbox.scriptModel('fill', [
      { toolCalls: [{ name: 'find_contact', arguments: { email: '{{input.email}}', nested: { list: ['{{input.name}}!'] }, n: 1 } }] },
      {
        content:
          'Hello {{tools.find_contact.results.0.properties.firstname}} ({{lastTool.total}}); missing: [{{tools.nope.x}}] obj: {{tools.find_contact.results.0}} raw: {{input}}',
        toolCalls: [{ name: 'post', arguments: { text: 'for {{ input.name }}' } }],
      },
    ]);
    const input = { email: 'ada@example.com', name: 'Ada' };
    const one = (await (
      await chat({
        model: 'fill',
        messages: [
          { role: 'system', content: 'be nice' },
          { role: 'user', content: JSON.stringify(input) },
        ],
      })
    ).json()) as any;
    expect(JSON.parse(one.choices[0].message.tool_calls[0].function.arguments)).toEqual({ email: 'ada@example.com', nested: { list: ['Ada!'] }, n: 1 });
    const result = { total: 1, results: [{ properties: { firstname: 'Ada' } }] };
    const messages = [
      { role: 'user', content: JSON.stringify(input) },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_0_0', type: 'function', function: { name: 'find_contact', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_0_0', content: JSON.stringify(result) },
    ];
    const two = (await (await chat({ model: 'fill', messages })).json()) as any;
    expect(two.choices[0].message.content).toBe(`Hello Ada (1); missing: [] obj: {"properties":{"firstname":"Ada"}} raw: ${JSON.stringify(input)}`);
    expect(JSON.parse(two.choices[0].message.tool_calls[0].function.arguments)).toEqual({ text: 'for Ada' });
    expect(two.choices[0].message.tool_calls[0].id).toBe('call_1_0');
  });

  it('resolves placeholders: text input, multi-part content, numeric indexes, the latest result per tool', () => {
    const context = placeholderContext([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'plain ' },
          { type: 'text', text: 'words' },
        ],
      },
      {
        role: 'assistant',
        tool_calls: [
          { id: 'a', function: { name: 'x' } },
          { id: 'b', function: { name: 'y' } },
        ],
      },
      { role: 'tool', tool_call_id: 'a', content: '{"v":[10,20]}' },
      { role: 'tool', tool_call_id: 'b', content: 'not json' },
      { role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'x' } }] },
      { role: 'tool', tool_call_id: 'c', content: '{"v":[30]}' },
    ]);
    expect(context).toEqual({ input: 'plain words', tools: { x: { v: [30] }, y: 'not json' }, lastTool: { v: [30] } });
    expect(valueAt(context, 'tools.x.v.0')).toBe(30);
    expect(valueAt(context, 'tools.x.v.1')).toBeUndefined();
    expect(valueAt(context, 'input.length')).toBeUndefined(); // own properties only
    expect(fillPlaceholders('{{tools.y}}|{{tools.x.v}}|{{missing.deep.path}}|{{lastTool.v.0}}', context)).toBe('not json|[30]||30');
  });

  it('counts usage deterministically from the characters sent and answered', async () => {
    sandbox.scriptModel('usage', [{ content: 'abcdefghi' }, { toolCalls: [{ name: 't', arguments: { a: 1 } }] }]);
    const messages = [{ role: 'user', content: 'hello' }];
    const tools = [{ type: 'function', function: { name: 't', parameters: { type: 'object' } } }];
    const body = (await (await chat({ model: 'usage', messages, tools })).json()) as any;
    const prompt = Math.ceil((JSON.stringify(messages).length + JSON.stringify(tools).length) / 4);
    expect(body.usage).toEqual({ prompt_tokens: prompt, completion_tokens: 3, total_tokens: prompt + 3 });
    const withCall = [...messages, { role: 'assistant', content: 'abcdefghi' }];
    const second = (await (await chat({ model: 'usage', messages: withCall })).json()) as any;
    const completion = Math.ceil(JSON.stringify(second.choices[0].message.tool_calls).length / 4);
    expect(second.usage).toEqual({
      prompt_tokens: Math.ceil(JSON.stringify(withCall).length / 4),
      completion_tokens: completion,
      total_tokens: Math.ceil(JSON.stringify(withCall).length / 4) + completion,
    });
  });

  it('refuses an unknown model (404 model_not_found naming it) and requests without messages (400), in the OpenAI error shape', async () => {
    const unknown = await chat({ model: 'nobody', messages: [{ role: 'user', content: 'hi' }] });
    expect(unknown.status).toBe(404);
    const error = ((await unknown.json()) as any).error;
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found' });
    expect(error.message).toContain("'nobody'");
    sandbox.scriptModel('m', [{ content: 'x' }]);
    for (const body of [{ model: 'm' }, { model: 'm', messages: [] }, { model: 'm', messages: 'hi' }]) {
      const res = await chat(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error).toMatchObject({ type: 'invalid_request_error', param: 'messages' });
    }
    const noModel = await chat({ messages: [{ role: 'user', content: 'hi' }] });
    expect(noModel.status).toBe(400);
    expect(((await noModel.json()) as any).error.param).toBe('model');
    const notJson = await fetch(`${sandbox.llmUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${sandbox.llmUrl}/chat/completions`)).status).toBe(405);
    expect((await fetch(`${sandbox.llmUrl}/embeddings`, { method: 'POST' })).status).toBe(404);
  });

  it('accepts any key, or none', async () => {
    sandbox.scriptModel('m', [{ content: 'ok' }]);
    expect((await chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer sk-whatever' })).status).toBe(200);
    const anonymous = await fetch(`${sandbox.llmUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(anonymous.status).toBe(200);
  });

  it('waits delayMs before answering', async () => {
    sandbox.scriptModel('slow', [{ content: 'late', delayMs: 300 }]);
    const started = Date.now();
    const res = await chat({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('answers stream: true as server-sent events carrying the same answer', async () => {
    sandbox.scriptModel('s', [{ content: 'streamed {{input}}', toolCalls: [{ name: 'x', arguments: { a: '{{input}}' } }] }]);
    const res = await chat({ model: 's', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'in' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((e) => e.replace(/^data: /, ''));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: 'streamed in' });
    expect(chunks[1].choices[0].delta.tool_calls).toEqual([{ index: 0, id: 'call_0_0', type: 'function', function: { name: 'x', arguments: '{"a":"in"}' } }]);
    expect(chunks[2].choices[0].finish_reason).toBe('tool_calls');
    expect(chunks[3].usage.total_tokens).toBeGreaterThan(0);
  });
});

describe('sandbox model: scripts and recorded requests over HTTP', () => {
  it('PUT /_sandbox/llm/scripts/:model scripts a model (names with / and :), GET reads it, DELETE removes it', async () => {
    const put = await control('PUT', `/scripts/${encodeURIComponent('org/llama3:8b')}`, { turns: [{ content: 'from http' }] });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ model: 'org/llama3:8b', turns: 1 });
    const answer = (await (await chat({ model: 'org/llama3:8b', messages: [{ role: 'user', content: 'hi' }] })).json()) as any;
    expect(answer.choices[0].message.content).toBe('from http');
    expect(await (await control('GET', `/scripts/${encodeURIComponent('org/llama3:8b')}`)).json()).toEqual({ model: 'org/llama3:8b', turns: [{ content: 'from http' }] });
    expect(await (await control('GET', '/scripts')).json()).toEqual({ models: ['org/llama3:8b'] });
    expect((await control('DELETE', `/scripts/${encodeURIComponent('org/llama3:8b')}`)).status).toBe(200);
    expect((await chat({ model: 'org/llama3:8b', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(404);
  });

  it('refuses bad scripts naming the turn and field', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'turns must be a non-empty array'],
      [{ turns: [] }, 'turns must be a non-empty array'],
      [{ turns: [{ content: 1 }] }, 'turns[0].content must be a string'],
      [{ turns: [{ content: 'a' }, { toolCalls: [{ name: 'x' }] }] }, 'turns[1].toolCalls[0].arguments must be an object'],
      [{ turns: [{ toolCalls: [{ arguments: {} }] }] }, 'turns[0].toolCalls[0].name must be a non-empty string'],
      [{ turns: [{ delayMs: -1 }] }, 'turns[0].delayMs must be a number'],
      [{ turns: [{ text: 'x' }] }, 'turns[0].text is not a turn field'],
    ];
    for (const [body, message] of cases) {
      const res = await control('PUT', '/scripts/m', body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).message).toContain(message);
    }
    expect(() => sandbox.scriptModel('m', [{ toolCalls: 'x' as never }])).toThrow('turns[0].toolCalls must be an array');
  });

  it('records the requests per model in order (GET ?model=), DELETE clears them, reset() clears scripts', async () => {
    sandbox.scriptModel('a', [{ content: 'A' }]);
    sandbox.scriptModel('b', [{ content: 'B' }]);
    const tools = [{ type: 'function', function: { name: 't', parameters: { type: 'object' } } }];
    await chat({ model: 'a', messages: [{ role: 'user', content: '1' }], tools });
    await chat({ model: 'b', messages: [{ role: 'user', content: '2' }] });
    await chat({ model: 'a', messages: [{ role: 'user', content: '3' }] });
    const onlyA = ((await (await control('GET', '/requests?model=a')).json()) as any).requests;
    expect(onlyA.map((r: any) => [r.model, r.messages[0].content, r.tools?.length ?? 0, r.status])).toEqual([
      ['a', '1', 1, 200],
      ['a', '3', 0, 200],
    ]);
    expect(sandbox.llmRequests()).toHaveLength(3);
    expect(sandbox.calls({ connector: 'llm', path: '/v1/chat/completions' })).toHaveLength(3);
    expect((await control('DELETE', '/requests')).status).toBe(200);
    expect(sandbox.llmRequests()).toEqual([]);
    sandbox.reset();
    expect((await chat({ model: 'a', messages: [{ role: 'user', content: '1' }] })).status).toBe(404);
  });

  it('fault rules apply to the model as connector "llm" (a 429 the client retries)', async () => {
    sandbox.scriptModel('m', [{ content: 'after retry' }]);
    sandbox.inject({
      connector: 'llm',
      path: '/v1/chat/completions',
      status: 429,
      retryAfter: 0,
      body: { error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limited' } },
    });
    expect((await chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(429);
    expect((await chat({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
  });

  it('keeps scripts across a restart when the sandbox persists its state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-llm-'));
    const stateFile = join(dir, 'state.json');
    try {
      const first = await startSandbox({ stateFile });
      first.scriptModel('demo-agent', [{ content: 'kept' }]);
      await first.close();
      expect(JSON.parse(readFileSync(stateFile, 'utf8')).llm.scripts['demo-agent']).toEqual([{ content: 'kept' }]);
      const second = await startSandbox({ stateFile });
      try {
        const res = await fetch(`${second.llmUrl}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'demo-agent', messages: [{ role: 'user', content: 'x' }] }),
        });
        expect(((await res.json()) as any).choices[0].message.content).toBe('kept');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sandbox model through the ai SDK (@ai-sdk/openai-compatible)', () => {
  const model = (name: string) => createOpenAICompatible({ name: 'sandbox', baseURL: sandbox.llmUrl, apiKey: 'any' }).chatModel(name);

  it('generateText runs a tool loop: the scripted call, our tool, the scripted answer using its result', async () => {
    sandbox.scriptModel('agent', [{ toolCalls: [{ name: 'lookup', arguments: { email: '{{input.email}}' } }] }, { content: 'Found {{tools.lookup.name}} ({{tools.lookup.id}})' }]);
    const seen: unknown[] = [];
    const result = await generateText({
      model: model('agent'),
      prompt: JSON.stringify({ email: 'ada@example.com' }),
      tools: {
        lookup: tool({
          description: 'Find a person by email',
          inputSchema: jsonSchema<{ email: string }>({ type: 'object', properties: { email: { type: 'string' } }, required: ['email'] }),
          execute: async (input) => {
            seen.push(input);
            return { id: 'p-1', name: 'Ada Lovelace' };
          },
        }),
      },
      stopWhen: stepCountIs(5),
    });
    expect(seen).toEqual([{ email: 'ada@example.com' }]);
    expect(result.text).toBe('Found Ada Lovelace (p-1)');
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]!.finishReason).toBe('tool-calls');
    expect(result.steps[0]!.toolCalls[0]).toMatchObject({ toolCallId: 'call_0_0', toolName: 'lookup', input: { email: 'ada@example.com' } });
    expect(result.finishReason).toBe('stop');
    expect(result.totalUsage.inputTokens).toBeGreaterThan(0);
    const requests = sandbox.llmRequests('agent');
    expect(requests).toHaveLength(2);
    expect(requests[0]!.tools).toEqual([expect.objectContaining({ type: 'function', function: expect.objectContaining({ name: 'lookup' }) })]);
  });

  it('streamText reads the SSE answer', async () => {
    sandbox.scriptModel('streamer', [{ content: 'hello stream' }]);
    const result = streamText({ model: model('streamer'), prompt: 'hi' });
    expect(await result.text).toBe('hello stream');
    expect(await result.finishReason).toBe('stop');
  });

  it('an unknown model is an API error naming it', async () => {
    const error = (await generateText({ model: model('ghost'), prompt: 'hi', maxRetries: 0 }).catch((e: unknown) => e)) as Error & { statusCode?: number };
    expect(error.statusCode).toBe(404);
    expect(error.message).toContain("'ghost'");
  });
});
