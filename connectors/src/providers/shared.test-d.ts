import type { Static } from '@sinclair/typebox';
import { expectTypeOf, test } from 'vitest';
import { connectors } from '../index';
import { defineAction } from '../types';
import { anyObject, arr, bool, dict, int, literal, nullable, num, obj, oneOf, res, str, types } from './shared';

// Checked by tsc (vitest --typecheck): the TypeScript types the builders give, and that run() gets them.

test('obj: the listed keys required, the others optional', () => {
  const input = obj({ channel: str('Channel'), limit: int(), blocks: arr(anyObject()), at: num() }, ['channel', 'at']);
  expectTypeOf<Static<typeof input>>().toEqualTypeOf<{ channel: string; at: number; limit?: number; blocks?: Record<string, unknown>[] }>();
  const unlisted = obj({ a: str() });
  expectTypeOf<Static<typeof unlisted>>().toEqualTypeOf<{ a?: string }>();
});

test('leaves: enums, nulls, JSON type unions, maps and constants', () => {
  const output = res(
    {
      format: oneOf({ enum: ['text', 'html'] }),
      due: nullable(str()),
      cell: types(['string', 'number', 'boolean', 'null']),
      meta: dict(str()),
      ok: literal(true),
      done: bool(),
    },
    ['format', 'due', 'cell', 'meta', 'ok', 'done'],
  );
  expectTypeOf<Static<typeof output>>().toEqualTypeOf<{
    format: 'text' | 'html';
    due: string | null;
    cell: string | number | boolean | null;
    meta: Record<string, string>;
    ok: true;
    done: boolean;
  }>();
});

test('defineAction types run() from the schemas', () => {
  defineAction({
    name: 'x',
    description: 'x',
    readOnly: true,
    retrySafe: true,
    input: obj({ id: str(), limit: int() }, ['id']),
    output: res({ id: str() }, ['id']),
    // @ts-expect-error the output schema requires id
    async run(_ctx, input) {
      expectTypeOf(input).toEqualTypeOf<{ id: string; limit?: number }>();
      return {};
    },
  });
  expectTypeOf(connectors.slack.actions.send_message.run).parameter(1).toEqualTypeOf<{
    channel: string;
    text: string;
    thread_ts?: string;
    blocks?: Record<string, unknown>[];
    unfurl_links?: boolean;
  }>();
  expectTypeOf(connectors.slack.triggers.new_message.map).parameter(1).toEqualTypeOf<{ channel?: string }>();
});
