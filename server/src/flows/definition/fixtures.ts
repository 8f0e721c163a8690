/**
 * Example definitions: the reference flow of docs/architecture.md and the benchmark reference flow
 * bench/engine.mjs measures (both also shown in docs/flows.md). Used by tests and handy for seeding and benches.
 */
import type { FlowDefinition } from './flow-definition.schema';

/** "Post won deals to Slack", exactly as in docs/architecture.md. */
export function wonDealsToSlack(): FlowDefinition {
  return {
    key: 'won-deals-to-slack',
    name: 'Post won deals to Slack',
    trigger: { type: 'event', event: 'deal.won' },
    connectors: ['slack'],
    inputs: {
      channel: { type: 'string', title: 'Channel', options: { connector: 'slack', source: 'channels' } },
      minAmount: { type: 'number', title: 'Only deals of at least', default: 0 },
    },
    steps: [
      {
        id: 'big',
        type: 'branch',
        if: '=$trigger.amount >= $inputs.minAmount',
        then: [
          {
            id: 'post',
            type: 'action',
            connector: 'slack',
            action: 'send_message',
            input: { channel: '=$inputs.channel', text: "='Deal ' & $trigger.name & ' won'" },
          },
        ],
      },
    ],
  };
}

/**
 * The benchmark reference flow (bench/engine.mjs): trigger body {"name","amount"} → transform the text
 * → post {channel, text} to Slack's chat.postMessage → branch on amount > 10000 → a small result.
 */
export function benchmarkReferenceFlow(): FlowDefinition {
  return {
    key: 'reference-flow',
    name: 'Benchmark reference flow',
    description: 'Transform, Slack chat.postMessage, branch, transform: the flow every engine figure uses.',
    trigger: { type: 'request' },
    connectors: ['slack'],
    inputs: {
      channel: { type: 'string', title: 'Channel', required: true, options: { connector: 'slack', source: 'channels' } },
    },
    steps: [
      { id: 'text', type: 'transform', output: { text: "='Deal ' & $trigger.name & ' won: $' & $trigger.amount" } },
      {
        id: 'post',
        type: 'request',
        connector: 'slack',
        method: 'POST',
        path: 'chat.postMessage',
        body: { channel: '=$inputs.channel', text: '=$steps.text.text' },
      },
      {
        id: 'big',
        type: 'branch',
        if: '=$trigger.amount > 10000',
        then: [
          {
            id: 'result',
            type: 'transform',
            output: { status: 'big', text: '=$steps.text.text', ok: '=$steps.post.body.ok', ts: '=$steps.post.body.ts' },
          },
        ],
      },
    ],
  };
}

/** A definition using every step type, input type and most options (schedule trigger). */
export function everyFeature(): FlowDefinition {
  return {
    $schema: 'https://switchboard.example/v1/schemas/flow-definition.json',
    key: 'everything',
    name: 'Everything',
    description: 'Uses every feature once',
    trigger: { type: 'schedule', cron: '0 9 * * 1-5', timezone: 'Europe/Paris' },
    connectors: ['slack', 'slack:alerts', 'github'],
    inputs: {
      channel: { type: 'string', title: 'Channel', options: { connector: 'slack', source: 'channels' }, required: true },
      repos: { type: 'array', title: 'Repositories', options: { connector: 'github', source: 'repos' }, minItems: 1, maxItems: 5 },
      level: { type: 'string', title: 'Level', enum: ['info', 'warn'], default: 'info', pattern: '^[a-z]+$', minLength: 1, maxLength: 10 },
      limit: { type: 'integer', title: 'Limit', minimum: 1, maximum: 100, default: 10 },
      ratio: { type: 'number', title: 'Ratio', enum: [0.5, 1] },
      loud: { type: 'boolean', title: 'Loud', default: false, description: 'Shout' },
    },
    steps: [
      {
        id: 'list',
        type: 'request',
        connector: 'github',
        method: 'GET',
        path: '/user/repos',
        query: { per_page: '=$inputs.limit', sort: 'updated' },
        headers: { Accept: 'application/json' },
        failOnError: false,
        retry: { attempts: 3, backoff: { initialMs: 100, maxMs: 1000, multiplier: 3 } },
        timeoutMs: 5000,
      },
      {
        id: 'each',
        type: 'loop',
        over: '=$steps.list.body',
        concurrency: 4,
        maxIterations: 100,
        steps: [
          { id: 'line', type: 'transform', output: { text: "=$item.name & ' #' & $index" } },
          {
            id: 'say',
            type: 'action',
            connector: 'slack',
            action: 'send_message',
            connection: 'slack:alerts',
            input: { channel: '=$inputs.channel', text: '=$steps.line.text', unfurl_links: false },
            retry: { attempts: 2 },
          },
        ],
      },
      {
        id: 'kind',
        type: 'branch',
        switch: '=$inputs.level',
        cases: [
          { when: 'info', steps: [{ id: 'wait', type: 'delay', for: 'PT15M' }] },
          { when: 'warn', steps: [{ id: 'waitUntil', type: 'delay', until: '2030-01-01T09:00:00Z' }] },
          { when: '=$inputs.level', steps: [] },
        ],
        default: [{ id: 'waitMs', type: 'delay', for: 60000 }],
      },
      {
        id: 'ok',
        type: 'approval',
        title: "='Post ' & $count($steps.each) & ' lines?'",
        description: 'Check them',
        approvers: 'end_user',
        timeoutMs: 86400000,
        onTimeout: 'approve',
        onReject: 'continue',
      },
      {
        id: 'check',
        type: 'branch',
        if: '=$steps.ok.approved',
        then: [{ id: 'done', type: 'respond', output: { posted: '=$count($steps.each)' }, status: 201 }],
        else: [{ id: 'no', type: 'respond', output: null }],
      },
    ],
  };
}
