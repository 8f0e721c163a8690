/**
 * The sandbox model: an OpenAI-compatible chat-completions endpoint (`POST /llm/v1/chat/completions`)
 * whose answers are scripted by the test or the demo, so agents run with no network and no key.
 *
 * A script is a list of turns per model name. The answer to a request is `turns[k]`, where k is the
 * number of `assistant` messages already in the request (past the end: the last turn), so the same
 * conversation always gets the same answer — a run replayed after a crash sees what it saw before.
 * `{{path}}` placeholders in a turn's content and in string values of its tool-call arguments are
 * filled from `{ input, tools, lastTool }` (see LlmPlaceholderContext).
 */
import type { SandboxRequest, SandboxResponse } from './core';
import { json } from './core';

/** One scripted answer. */
export interface LlmTurn {
  /** The assistant's text (placeholders filled). */
  content?: string;
  /** Tools the assistant calls (placeholders filled in string values of arguments, at any depth). */
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }>;
  /** Wait this long before answering (timeouts, a slow model). At most 60 000. */
  delayMs?: number;
}

/** A chat-completions request the sandbox received, for tests to assert on. */
export interface LlmRecordedRequest {
  /** Order received (1, 2, …). */
  id: number;
  /** ms since epoch (sandbox clock). */
  at: number;
  model: string;
  messages: unknown[];
  /** The tools offered (OpenAI shape), or undefined when none. */
  tools?: unknown[];
  stream: boolean;
  /** The HTTP status answered. */
  status: number;
}

/** What `{{path}}` placeholders are resolved against. */
export interface LlmPlaceholderContext {
  /** The first user message's content, parsed as JSON when it parses (else the text). */
  input: unknown;
  /** Tool name → the latest tool result for it (parsed JSON when it parses). */
  tools: Record<string, unknown>;
  /** The latest tool result of any tool (parsed when it parses). */
  lastTool: unknown;
}

export interface LlmSnapshot {
  scripts: Record<string, LlmTurn[]>;
}

const MAX_TURNS = 1000;
const MAX_DELAY_MS = 60_000;
const MAX_RECORDED = 1000;

/** An error in the OpenAI shape (what OpenAI clients, and the ai SDK, parse). */
export function openAiError(status: number, message: string, code: string | null, param: string | null = null): SandboxResponse {
  return json(status, { error: { message, type: 'invalid_request_error', param, code } });
}

/** Text of a message's content: a string, or the text parts of a multi-part content. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('');
  }
  return content == null ? '' : JSON.stringify(content);
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

type Message = { role?: unknown; content?: unknown; tool_call_id?: unknown; tool_calls?: unknown; name?: unknown };

/** The placeholder context of a conversation. */
export function placeholderContext(messages: unknown[]): LlmPlaceholderContext {
  const list = messages.filter((m): m is Message => Boolean(m) && typeof m === 'object');
  const firstUser = list.find((m) => m.role === 'user');
  const toolNames = new Map<string, string>();
  for (const m of list) {
    if (m.role !== 'assistant' || !Array.isArray(m.tool_calls)) continue;
    for (const call of m.tool_calls as Array<{ id?: unknown; function?: { name?: unknown } }>) {
      if (typeof call?.id === 'string' && typeof call.function?.name === 'string') toolNames.set(call.id, call.function.name);
    }
  }
  const tools: Record<string, unknown> = {};
  let lastTool: unknown = undefined;
  for (const m of list) {
    if (m.role !== 'tool') continue;
    const result = parsedOrText(textOf(m.content));
    const name = (typeof m.tool_call_id === 'string' ? toolNames.get(m.tool_call_id) : undefined) ?? (typeof m.name === 'string' ? m.name : undefined);
    if (name) tools[name] = result;
    lastTool = result;
  }
  return { input: firstUser ? parsedOrText(textOf(firstUser.content)) : undefined, tools, lastTool };
}

/** The value at a dotted path (`tools.find.results.0.name`); undefined when any step is missing. */
export function valueAt(root: unknown, path: string): unknown {
  let value: unknown = root;
  for (const segment of path.split('.')) {
    if (value === null || value === undefined || typeof value !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Replaces each `{{path}}` with the value there: strings as they are, objects as JSON, missing as ''. */
export function fillPlaceholders(text: string, context: LlmPlaceholderContext): string {
  return text.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_match, path: string) => {
    const value = valueAt(context, path);
    if (value === undefined || value === null) return '';
    return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}

function fillDeep(value: unknown, context: LlmPlaceholderContext): unknown {
  if (typeof value === 'string') return fillPlaceholders(value, context);
  if (Array.isArray(value)) return value.map((v) => fillDeep(v, context));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, context)]));
  return value;
}

/** Checks a script; answers the problem (naming where) or null. */
export function scriptProblem(turns: unknown): string | null {
  if (!Array.isArray(turns) || turns.length === 0) return 'turns must be a non-empty array';
  if (turns.length > MAX_TURNS) return `turns must have at most ${MAX_TURNS} entries`;
  for (const [i, turn] of turns.entries()) {
    const at = `turns[${i}]`;
    if (!turn || typeof turn !== 'object' || Array.isArray(turn)) return `${at} must be an object`;
    const t = turn as Record<string, unknown>;
    const unknownField = Object.keys(t).find((k) => !['content', 'toolCalls', 'delayMs'].includes(k));
    if (unknownField) return `${at}.${unknownField} is not a turn field (content, toolCalls, delayMs)`;
    if (t.content !== undefined && typeof t.content !== 'string') return `${at}.content must be a string`;
    if (t.delayMs !== undefined && (typeof t.delayMs !== 'number' || !Number.isFinite(t.delayMs) || t.delayMs < 0 || t.delayMs > MAX_DELAY_MS)) {
      return `${at}.delayMs must be a number of milliseconds from 0 to ${MAX_DELAY_MS}`;
    }
    if (t.toolCalls !== undefined) {
      if (!Array.isArray(t.toolCalls)) return `${at}.toolCalls must be an array`;
      for (const [j, call] of (t.toolCalls as unknown[]).entries()) {
        const c = call as Record<string, unknown> | null;
        if (!c || typeof c !== 'object' || typeof c.name !== 'string' || !c.name) return `${at}.toolCalls[${j}].name must be a non-empty string`;
        if (!c.arguments || typeof c.arguments !== 'object' || Array.isArray(c.arguments)) return `${at}.toolCalls[${j}].arguments must be an object`;
      }
    }
  }
  return null;
}

const tokens = (chars: number) => Math.ceil(chars / 4);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Scripts per model, the requests received, and the chat-completions endpoint. */
export class SandboxLlm {
  private scripts = new Map<string, LlmTurn[]>();
  private recorded: LlmRecordedRequest[] = [];
  private nextId = 1;

  constructor(
    private readonly now: () => number,
    private readonly changed: () => void = () => {},
  ) {}

  /** Sets (replaces) the turns model `model` answers with. Throws naming the problem. */
  script(model: string, turns: LlmTurn[]): void {
    if (typeof model !== 'string' || !model) throw new Error('model must be a non-empty string');
    const problem = scriptProblem(turns);
    if (problem) throw new Error(problem);
    this.scripts.set(model, structuredClone(turns));
    this.changed();
  }

  unscript(model: string): boolean {
    const had = this.scripts.delete(model);
    if (had) this.changed();
    return had;
  }

  models(): string[] {
    return [...this.scripts.keys()].sort();
  }

  turns(model: string): LlmTurn[] | undefined {
    const turns = this.scripts.get(model);
    return turns && structuredClone(turns);
  }

  requests(model?: string): LlmRecordedRequest[] {
    return this.recorded.filter((r) => model === undefined || r.model === model);
  }

  clearRequests(): void {
    this.recorded = [];
  }

  /** Forgets the scripts (and the requests). */
  clearScripts(): void {
    this.scripts.clear();
    this.changed();
  }

  snapshot(): LlmSnapshot {
    return { scripts: Object.fromEntries(this.scripts) };
  }

  restore(snapshot: LlmSnapshot | undefined): void {
    for (const [model, turns] of Object.entries(snapshot?.scripts ?? {})) if (!scriptProblem(turns)) this.scripts.set(model, turns);
  }

  /** The answer scripted for this conversation, as the OpenAI response message and its usage. */
  answer(
    model: string,
    messages: unknown[],
    tools: unknown[] | undefined,
  ): { turn: LlmTurn; k: number; message: Record<string, unknown>; finishReason: 'tool_calls' | 'stop'; usage: Record<string, number> } | null {
    const turns = this.scripts.get(model);
    if (!turns) return null;
    const k = messages.filter((m) => (m as Message | null)?.role === 'assistant').length;
    const turn = turns[Math.min(k, turns.length - 1)]!;
    const context = placeholderContext(messages);
    const toolCalls = (turn.toolCalls ?? []).map((call, i) => ({
      id: `call_${k}_${i}`,
      type: 'function' as const,
      function: { name: call.name, arguments: JSON.stringify(fillDeep(call.arguments, context)) },
    }));
    const content = turn.content === undefined ? (toolCalls.length ? null : '') : fillPlaceholders(turn.content, context);
    const message: Record<string, unknown> = { role: 'assistant', content };
    if (toolCalls.length) message.tool_calls = toolCalls;
    const promptChars = JSON.stringify(messages).length + (tools === undefined ? 0 : JSON.stringify(tools).length);
    const completionChars = (content ?? '').length + (toolCalls.length ? JSON.stringify(toolCalls).length : 0);
    const usage = { prompt_tokens: tokens(promptChars), completion_tokens: tokens(completionChars), total_tokens: tokens(promptChars) + tokens(completionChars) };
    return { turn, k, message, finishReason: toolCalls.length ? 'tool_calls' : 'stop', usage };
  }

  /** `POST /llm/v1/chat/completions` (and `GET /llm/v1/models`). `req.path` is below /llm. */
  async handle(req: SandboxRequest): Promise<SandboxResponse> {
    if (req.path === '/v1/models' && req.method === 'GET') {
      return json(200, { object: 'list', data: this.models().map((id) => ({ id, object: 'model', created: 0, owned_by: 'sandbox' })) });
    }
    if (req.path !== '/v1/chat/completions') return openAiError(404, `The sandbox model has no ${req.method} /llm${req.path}; use POST /llm/v1/chat/completions`, 'not_found');
    if (req.method !== 'POST') return openAiError(405, `${req.method} is not supported on /llm/v1/chat/completions; use POST`, 'method_not_allowed');
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return openAiError(400, 'The request body must be a JSON object', 'invalid_body');
    const model = body.model;
    const stream = body.stream === true;
    const record = (status: number) => {
      this.recorded.push({
        id: this.nextId++,
        at: this.now(),
        model: typeof model === 'string' ? model : '',
        messages: Array.isArray(body.messages) ? body.messages : [],
        tools: Array.isArray(body.tools) ? body.tools : undefined,
        stream,
        status,
      });
      if (this.recorded.length > MAX_RECORDED) this.recorded = this.recorded.slice(-MAX_RECORDED);
    };
    if (typeof model !== 'string' || !model) {
      record(400);
      return openAiError(400, 'model: a model name is required', 'missing_required_parameter', 'model');
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      record(400);
      return openAiError(400, 'messages: a non-empty array of messages is required', 'missing_required_parameter', 'messages');
    }
    if (body.tools !== undefined && !Array.isArray(body.tools)) {
      record(400);
      return openAiError(400, 'tools: must be an array of tools', 'invalid_type', 'tools');
    }
    const answer = this.answer(model, body.messages, body.tools);
    if (!answer) {
      record(404);
      return openAiError(
        404,
        `The model '${model}' does not exist in the sandbox; script it first (PUT /_sandbox/llm/scripts/${encodeURIComponent(model)} with { "turns": [...] }, or sandbox.scriptModel())`,
        'model_not_found',
        'model',
      );
    }
    record(200);
    if (answer.turn.delayMs) await sleep(answer.turn.delayMs);
    const id = `chatcmpl-sandbox-${answer.k}`;
    const created = Math.floor(this.now() / 1000);
    if (!stream) {
      return json(200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: answer.message, logprobs: null, finish_reason: answer.finishReason }],
        usage: answer.usage,
        system_fingerprint: 'sandbox',
      });
    }
    // Streaming: the same answer as server-sent events (all at once: a script has nothing to wait for).
    const chunk = (delta: Record<string, unknown>, finishReason: string | null, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'sandbox', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...extra })}\n\n`;
    const message = answer.message as { content: string | null; tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }> };
    let events = chunk({ role: 'assistant', content: message.content ?? '' }, null);
    for (const [index, call] of (message.tool_calls ?? []).entries()) events += chunk({ tool_calls: [{ index, ...call }] }, null);
    events += chunk({}, answer.finishReason);
    if (body.stream_options?.include_usage) {
      events += `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'sandbox', choices: [], usage: answer.usage })}\n\n`;
    }
    events += 'data: [DONE]\n\n';
    return { status: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, body: events };
  }
}
