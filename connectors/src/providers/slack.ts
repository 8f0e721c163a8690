import { createHmac, timingSafeEqual } from 'node:crypto';
import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, defineWebhookTrigger, ProviderError, ProviderWebhooks, WebhookEvent } from '../types';
import { anyObject, arr, bool, int, literal, logo, matches, obj, res, str } from './shared';

/** Slack Web API answers 200 with `{ ok: false, error }` for failures; those become ProviderError. */
async function slack<T extends { ok: boolean; error?: string }>(ctx: ActionContext, method: 'GET' | 'POST', apiMethod: string, args: Record<string, unknown>): Promise<T> {
  const data =
    method === 'GET'
      ? await send<T>(ctx, {
          method,
          path: apiMethod,
          query: Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === undefined ? undefined : String(v)])),
        })
      : await send<T>(ctx, { method, path: apiMethod, body: args });
  if (!data || data.ok !== true) {
    const code = data?.error ?? 'unknown_error';
    throw new ProviderError(`Slack ${apiMethod} failed: ${code}`, code, data);
  }
  return data;
}

interface SlackChannel {
  id: string;
  name: string;
  is_private?: boolean;
  is_archived?: boolean;
  num_members?: number;
  topic?: { value?: string };
  purpose?: { value?: string };
}

interface SlackUser {
  id: string;
  name: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  profile?: { email?: string; display_name?: string; real_name?: string };
}

const sendMessage = defineAction({
  name: 'Send message',
  description: 'Posts a message to a channel, private group or DM (chat.postMessage).',
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      channel: str('Channel', { description: 'Channel id (C…) or name', 'x-options': 'channels', minLength: 1 }),
      text: str('Text', { description: 'Message text (mrkdwn). Also the notification fallback when blocks are sent.', minLength: 1, maxLength: 40000 }),
      thread_ts: str('Reply in thread', { description: 'ts of the parent message' }),
      blocks: arr(anyObject(), { title: 'Blocks', description: 'Block Kit blocks', maxItems: 50 }),
      unfurl_links: bool('Unfurl links'),
    },
    ['channel', 'text'],
  ),
  output: res({ channel: str('Channel id'), ts: str('Message timestamp'), text: str('Text') }, ['channel', 'ts']),
  async run(ctx, input) {
    const data = await slack<{ ok: boolean; channel: string; ts: string; message?: { text?: string } }>(ctx, 'POST', 'chat.postMessage', {
      channel: input.channel,
      text: input.text,
      thread_ts: input.thread_ts,
      blocks: input.blocks,
      unfurl_links: input.unfurl_links,
    });
    return { channel: data.channel, ts: data.ts, text: data.message?.text ?? input.text };
  },
});

const addReaction = defineAction({
  name: 'Add reaction',
  description: 'Adds an emoji reaction to a message (reactions.add).',
  // A repeat is not a duplicate but fails with already_reacted.
  readOnly: false,
  retrySafe: false,
  input: obj(
    {
      channel: str('Channel', { 'x-options': 'channels', minLength: 1 }),
      timestamp: str('Message timestamp', { description: 'ts of the message', pattern: '^[0-9]+\\.[0-9]+$' }),
      name: str('Emoji name', { description: 'Without colons, e.g. thumbsup', pattern: '^[a-z0-9_+\\-]+$' }),
    },
    ['channel', 'timestamp', 'name'],
  ),
  output: res({ ok: literal(true) }, ['ok']),
  async run(ctx, input) {
    await slack(ctx, 'POST', 'reactions.add', { channel: input.channel, timestamp: input.timestamp, name: input.name.replace(/:/g, '') });
    return { ok: true as const };
  },
});

const listUsers = defineAction({
  name: 'List users',
  description: 'Lists the workspace members, one page at a time (users.list).',
  readOnly: true,
  retrySafe: true,
  input: obj({
    limit: int('Page size', { minimum: 1, maximum: 1000, default: 200 }),
    cursor: str('Cursor', { description: 'next_cursor of the previous page' }),
    include_bots: bool('Include bots', { default: false }),
  }),
  output: res(
    {
      users: arr(res({ id: str('Id'), name: str('Handle'), real_name: str('Name'), email: str('Email'), is_bot: bool('Bot') }, ['id', 'name'])),
      next_cursor: str('Next cursor'),
    },
    ['users'],
  ),
  async run(ctx, input) {
    const data = await slack<{ ok: boolean; members: SlackUser[]; response_metadata?: { next_cursor?: string } }>(ctx, 'GET', 'users.list', {
      limit: input.limit ?? 200,
      cursor: input.cursor,
    });
    const users = data.members
      .filter((m) => !m.deleted && (input.include_bots || (!m.is_bot && m.id !== 'USLACKBOT')))
      .map((m) => ({
        id: m.id,
        name: m.name,
        real_name: m.real_name ?? m.profile?.real_name,
        email: m.profile?.email,
        is_bot: Boolean(m.is_bot),
      }));
    const next = data.response_metadata?.next_cursor;
    return next ? { users, next_cursor: next } : { users };
  },
});

/** Slack rejects deliveries older than this itself; so do we (replays). */
const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The Events API envelope (https://docs.slack.dev/apis/events-api/). */
interface SlackEnvelope {
  type: 'event_callback' | 'url_verification' | 'app_rate_limited';
  team_id?: string;
  api_app_id?: string;
  event_id?: string;
  event_time?: number;
  event?: { type: string; subtype?: string; [k: string]: unknown };
  challenge?: string;
}

function envelope(body: unknown): SlackEnvelope | undefined {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as SlackEnvelope) : undefined;
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the app's signing secret. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Events API: one request URL per Slack app (routing 'app'), signed with the app's signing secret.
 * An event's `type` is Slack's `event.type` as sent (`message`, `reaction_added`, `app_mention`):
 * a message's subtype (`bot_message`, `message_changed`, `channel_join`…) stays in `data.subtype`
 * rather than making types of its own, so a trigger on `message` decides which subtypes it wants.
 */
const slackWebhooks: ProviderWebhooks = {
  routing: 'app',
  secret: 'signing_secret',
  verify(req, signingSecret, now) {
    const timestamp = req.headers['x-slack-request-timestamp'];
    const signature = req.headers['x-slack-signature'];
    if (!timestamp || !signature) return 'missing X-Slack-Signature or X-Slack-Request-Timestamp';
    if (!/^\d+$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) return 'timestamp too old';
    return sameText(signature, slackSignature(signingSecret, timestamp, req.rawBody)) ? null : 'signature mismatch';
  },
  handshake(req) {
    const body = envelope(req.body);
    return body?.type === 'url_verification' ? { status: 200, body: { challenge: body.challenge } } : undefined;
  },
  events(req) {
    const body = envelope(req.body);
    if (body?.type !== 'event_callback' || !body.event || !body.event_id) return [];
    return [{ id: body.event_id, type: body.event.type, account: body.team_id, data: body.event }];
  },
  accountKey(connection) {
    // account() names a connection `${team_id}:${bot user id}`; team_id also comes with the token.
    return connection.config.team_id || connection.accountId.split(':')[0]!;
  },
};

interface MessageEvent {
  type: 'message';
  subtype?: string;
  channel: string;
  channel_type?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  event_ts?: string;
}

/** Subtypes that are still someone writing in the channel (not edits, joins, bots…). */
const PEOPLE_MESSAGE_SUBTYPES = new Set(['file_share', 'thread_broadcast', 'me_message']);

const newMessage = defineWebhookTrigger({
  name: 'New message',
  description: 'A person posts a message in a channel the app is in (Events API message.channels / message.groups); bots, edits and joins are left out.',
  events: ['message'],
  input: obj({ channel: str('Channel', { description: 'Only this channel; empty for every channel', 'x-options': 'channels' }) }),
  output: res(
    {
      channel: str('Channel id'),
      channel_type: str('Channel type'),
      user: str('Author user id'),
      text: str('Text'),
      ts: str('Message timestamp'),
      thread_ts: str('Thread parent timestamp'),
      subtype: str('Subtype'),
    },
    ['channel', 'ts'],
  ),
  map(event: WebhookEvent, input) {
    const message = event.data as unknown as MessageEvent;
    if (message.subtype && !PEOPLE_MESSAGE_SUBTYPES.has(message.subtype)) return null;
    if (message.bot_id || !message.user) return null;
    if (input?.channel && message.channel !== input.channel) return null;
    return { id: `${message.channel}:${message.ts}`, data: event.data };
  },
});

const reactionAdded = defineWebhookTrigger({
  name: 'Reaction added',
  description: 'Someone adds an emoji reaction to a message (Events API reaction_added).',
  events: ['reaction_added'],
  input: obj({
    channel: str('Channel', { description: 'Only reactions in this channel', 'x-options': 'channels' }),
    reaction: str('Emoji name', { description: 'Only this emoji, without colons, e.g. white_check_mark', pattern: '^[a-z0-9_+\\-]+$' }),
  }),
  output: res(
    {
      user: str('Who reacted'),
      reaction: str('Emoji name'),
      item_user: str('Author of the message'),
      item: res({ type: str('Item type'), channel: str('Channel id'), ts: str('Message timestamp') }, ['type']),
      event_ts: str('Event timestamp'),
    },
    ['user', 'reaction', 'item'],
  ),
  map(event: WebhookEvent, input) {
    const data = event.data as { reaction?: string; item?: { channel?: string } };
    if (input?.channel && data.item?.channel !== input.channel) return null;
    if (input?.reaction && data.reaction !== input.reaction.replace(/:/g, '')) return null;
    return { id: event.id, data: event.data };
  },
});

export const slackConnector = defineConnector({
  key: 'slack',
  name: 'Slack',
  description: 'Post messages, react and look up people in a Slack workspace, as your bot.',
  logo: logo(
    '#4A154B',
    '<rect x="18" y="14" width="8" height="36" rx="4" fill="#fff"/><rect x="38" y="14" width="8" height="36" rx="4" fill="#fff"/>' +
      '<rect x="12" y="22" width="40" height="8" rx="4" fill="#ECB22E"/><rect x="12" y="36" width="40" height="8" rx="4" fill="#36C5F0"/>',
  ),
  categories: ['communication'],
  docsUrl: 'https://docs.slack.dev/reference/methods',
  auth: {
    type: 'oauth2',
    authorizationUrl: 'https://slack.com/oauth/v2/authorize',
    tokenUrl: 'https://slack.com/api/oauth.v2.access',
    // Bot scopes; user scopes would go in `user_scope`. *:history and reactions:read let the app
    // receive the message and reaction_added events its triggers listen to.
    scopes: [
      'channels:read',
      'groups:read',
      'chat:write',
      'chat:write.public',
      'users:read',
      'users:read.email',
      'reactions:write',
      'channels:history',
      'groups:history',
      'reactions:read',
    ],
    scopeSeparator: ',',
    pkce: true,
    clientAuthentication: 'client_secret_basic',
    // The bot token is at the top level (access_token, token_type "bot"); the installing user's
    // token, if user scopes were asked for, is at authed_user.access_token.
    tokenResponse: { accessToken: 'access_token', refreshToken: 'refresh_token', expiresIn: 'expires_in', scope: 'scope' },
    invalidGrantErrors: ['invalid_code', 'invalid_refresh_token', 'token_revoked'],
    connectionConfigFromToken: { team_id: 'team.id', team_name: 'team.name', bot_user_id: 'bot_user_id' },
    // Refresh tokens exist when token rotation is turned on for the Slack app (12 h access tokens).
    refreshable: true,
  },
  connectionConfig: {
    team_id: { title: 'Workspace id', fromToken: true },
    team_name: { title: 'Workspace name', fromToken: true, optional: true },
    bot_user_id: { title: 'Bot user id', fromToken: true, optional: true },
  },
  baseUrl: 'https://slack.com/api',
  pagination: { style: 'cursor', cursorParam: 'cursor', nextCursorPath: 'response_metadata.next_cursor', limitParam: 'limit' },
  // Tier 2–3 methods allow 20–50+ calls a minute; chat.postMessage about 1 per second per channel.
  rateLimit: { requestsPerSecond: 1 },
  authFailure: { status: [401], bodyPath: 'error', bodyValues: ['token_expired', 'invalid_auth', 'not_authed'] },
  actions: { send_message: sendMessage, add_reaction: addReaction, list_users: listUsers },
  triggers: { new_message: newMessage, reaction_added: reactionAdded },
  webhooks: slackWebhooks,
  options: {
    channels: {
      name: 'Channels',
      description: 'Public and private channels the bot can see',
      async run(ctx, { search, cursor }) {
        // conversations.list has no name filter: walk pages until enough matches (bounded).
        const options: { value: string; label: string; description?: string }[] = [];
        let next: string | undefined = cursor;
        for (let page = 0; page < (search ? 10 : 1); page++) {
          const data: { ok: boolean; channels: SlackChannel[]; response_metadata?: { next_cursor?: string } } = await slack(ctx, 'GET', 'conversations.list', {
            types: 'public_channel,private_channel',
            exclude_archived: true,
            limit: 200,
            cursor: next,
          });
          for (const c of data.channels) {
            if (matches(search, c.name, c.purpose?.value, c.topic?.value)) {
              options.push({ value: c.id, label: `#${c.name}`, description: c.purpose?.value || (c.is_private ? 'Private channel' : undefined) });
            }
          }
          next = data.response_metadata?.next_cursor || undefined;
          if (!next || options.length >= 50) break;
        }
        return next ? { options, nextCursor: next } : { options };
      },
    },
  },
  async account(ctx) {
    const data = await slack<{ ok: boolean; team: string; team_id: string; user: string; user_id: string; url: string; bot_id?: string }>(ctx, 'POST', 'auth.test', {});
    return {
      id: `${data.team_id}:${data.user_id}`,
      name: `${data.team} (${data.user})`,
      details: { team_id: data.team_id, url: data.url, bot_id: data.bot_id },
    };
  },
});
