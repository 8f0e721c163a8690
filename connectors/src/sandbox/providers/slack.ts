import { createHmac } from 'node:crypto';
import { decodeCursor, encodeCursor, intParam, json, ProviderContext, ProviderModule, randomId, SandboxRequest, SandboxResponse } from '../core';

export interface SlackChannel {
  id: string;
  name: string;
  is_channel: boolean;
  is_group: boolean;
  is_im: boolean;
  is_private: boolean;
  is_archived: boolean;
  is_general: boolean;
  is_member: boolean;
  created: number;
  creator: string;
  name_normalized: string;
  num_members: number;
  topic: { value: string; creator: string; last_set: number };
  purpose: { value: string; creator: string; last_set: number };
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  user: string;
  /** Absent for people's messages. */
  bot_id?: string;
  thread_ts?: string;
  blocks?: unknown[];
  reactions: { name: string; users: string[]; count: number }[];
}

export interface SlackState {
  channels: SlackChannel[];
  users: Record<string, unknown>[];
  /** Every message posted (chat.postMessage, and people's messages on tick()), oldest first. */
  messages: SlackMessage[];
  /** How many times tick() ran: picks who writes next. */
  ticks: number;
}

const ok = (body: Record<string, unknown> = {}) => json(200, { ok: true, ...body });
/** Slack reports method errors with HTTP 200. */
const err = (error: string, extra: Record<string, unknown> = {}) => json(200, { ok: false, error, ...extra });

const TOPICS = ['announcements', 'random', 'engineering', 'sales', 'support', 'design', 'marketing', 'deals', 'ops', 'hiring'];

function seedChannels(): SlackChannel[] {
  const channels: SlackChannel[] = [];
  const names = ['general', ...TOPICS];
  // 10 + 1 named channels and a tail of project channels so paging has several pages.
  for (let i = 0; i < 230; i++) names.push(`proj-${String(i + 1).padStart(2, '0')}-${['alpha', 'beta', 'gamma', 'delta', 'omega'][i % 5]}`);
  names.forEach((name, i) => {
    const isPrivate = name === 'deals' || name === 'hiring';
    channels.push({
      id: `C0${(1000000 + i * 7919).toString(36).toUpperCase().padStart(8, '0')}`,
      name,
      is_channel: !isPrivate,
      is_group: isPrivate,
      is_im: false,
      is_private: isPrivate,
      is_archived: name === 'proj-45-omega',
      is_general: name === 'general',
      is_member: i < 6,
      created: 1600000000 + i * 86400,
      creator: 'U0SBXJANE1',
      name_normalized: name,
      num_members: 3 + ((i * 13) % 40),
      topic: { value: name === 'deals' ? 'Won deals land here' : '', creator: '', last_set: 0 },
      purpose: { value: name === 'general' ? 'Company-wide announcements' : `Talk about ${name}`, creator: 'U0SBXJANE1', last_set: 1600000000 },
    });
  });
  return channels;
}

function seedUsers(): Record<string, unknown>[] {
  const people = [
    ['U0SBXJANE1', 'jane', 'Jane Cooper', 'jane@acme.test'],
    ['U0SBXBOB02', 'bob', 'Bob Martin', 'bob@acme.test'],
    ['U0SBXALI03', 'alice', 'Alice Nguyen', 'alice@acme.test'],
    ['U0SBXOMR04', 'omar', 'Omar Haddad', 'omar@acme.test'],
    ['U0SBXLIN05', 'lin', 'Lin Wei', 'lin@acme.test'],
  ];
  const users: Record<string, unknown>[] = people.map(([id, name, real, email]) => ({
    id,
    team_id: 'T0SBXACME1',
    name,
    deleted: false,
    real_name: real,
    tz: 'Europe/Berlin',
    is_admin: id === 'U0SBXJANE1',
    is_bot: false,
    is_app_user: false,
    updated: 1700000000,
    profile: { real_name: real, display_name: name, email, image_48: `https://avatars.sandbox.test/${name}_48.png` },
  }));
  users.push({ id: 'USLACKBOT', team_id: 'T0SBXACME1', name: 'slackbot', deleted: false, real_name: 'Slackbot', is_bot: false, profile: { real_name: 'Slackbot' } });
  users.push({
    id: 'U0SBXBOT01',
    team_id: 'T0SBXACME1',
    name: 'switchboard',
    deleted: false,
    real_name: 'Switchboard',
    is_bot: true,
    profile: { real_name: 'Switchboard', bot_id: 'B0SBXBOT01' },
  });
  users.push({ id: 'U0SBXOLD06', team_id: 'T0SBXACME1', name: 'former', deleted: true, real_name: 'Former Employee', is_bot: false, profile: {} });
  return users;
}

/** Slack's message ts: seconds with microseconds, unique per channel. */
function nextTs(state: SlackState, now: number): string {
  return `${Math.floor(now / 1000)}.${String((now % 1000) * 1000 + (state.messages.length % 1000)).padStart(6, '0')}`;
}

/**
 * Sends an Events API `event_callback` to every Slack app (OAuth client) with a request URL and a
 * signing secret — the sandbox does not track which workspaces installed which app, so each app
 * hears every workspace's events; `team_id` says whose they are. Signed as Slack signs:
 * `v0=` hex HMAC-SHA256 of `v0:{timestamp}:{body}`.
 */
function emitEvent(ctx: ProviderContext<SlackState>, teamId: string, event: Record<string, unknown>): void {
  const seconds = Math.floor(ctx.now() / 1000);
  for (const app of ctx.appClients()) {
    if (!app.signingSecret) continue;
    const body = JSON.stringify({
      token: 'sandboxVerificationToken',
      team_id: teamId,
      context_team_id: teamId,
      api_app_id: 'A0SBXSWITCH',
      event,
      type: 'event_callback',
      event_id: `Ev${randomId(8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}`,
      event_time: seconds,
      authorizations: [{ enterprise_id: null, team_id: teamId, user_id: 'U0SBXBOT01', is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(JSON.stringify({ et: event.type, tid: teamId, aid: 'A0SBXSWITCH', cid: event.channel })).toString('base64url')}`,
    });
    const timestamp = String(seconds);
    const signature = `v0=${createHmac('sha256', app.signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    ctx.deliver({
      url: app.webhookUrl,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': signature,
      },
      body,
    });
  }
}

/** The `message` event for a stored message, as Slack sends it. */
function messageEvent(channel: SlackChannel, m: SlackMessage): Record<string, unknown> {
  const { channel: _c, reactions: _r, ...fields } = m;
  return {
    type: 'message',
    ...(m.bot_id ? { subtype: 'bot_message' } : {}),
    ...fields,
    channel: channel.id,
    event_ts: m.ts,
    channel_type: channel.is_private ? 'group' : 'channel',
  };
}

/** A churning demo sandbox keeps this many messages, dropping the oldest. */
const MAX_MESSAGES = 5000;

const CHATTER = [
  'Can someone review the Q3 numbers?',
  'Deploy is done ✅',
  'Lunch at 12:30?',
  'New lead from the website: Initech',
  'Who owns the onboarding doc?',
  'Heads up: the VPN restarts tonight',
];

function params(req: SandboxRequest): Record<string, unknown> {
  const out: Record<string, unknown> = Object.fromEntries(req.query);
  if (req.body && typeof req.body === 'object') Object.assign(out, req.body);
  return out;
}

function page<T>(items: T[], p: Record<string, unknown>, fallbackLimit: number): { items: T[]; next: string } | SandboxResponse {
  const start = decodeCursor(p.cursor as string | undefined);
  if (start === null) return err('invalid_cursor');
  const limit = intParam(p.limit, fallbackLimit, 1, 1000);
  const slice = items.slice(start, start + limit);
  return { items: slice, next: start + limit < items.length ? encodeCursor(start + limit) : '' };
}

function findChannel(state: SlackState, ref: unknown): SlackChannel | undefined {
  if (typeof ref !== 'string') return undefined;
  const name = ref.replace(/^#/, '');
  return state.channels.find((c) => c.id === ref || c.name === name);
}

export const slackSandbox: ProviderModule<SlackState> = {
  key: 'slack',
  displayName: 'Slack',
  accounts: [
    { id: 'T0SBXACME1', name: 'Acme Sandbox', email: 'jane@acme.test', team_id: 'T0SBXACME1', team: 'Acme Sandbox', domain: 'acme-sandbox', user_id: 'U0SBXJANE1', user: 'jane' },
    { id: 'T0SBXGLBX2', name: 'Globex', email: 'hank@globex.test', team_id: 'T0SBXGLBX2', team: 'Globex', domain: 'globex', user_id: 'U0SBXHANK7', user: 'hank' },
  ],
  tokenPrefix: { access: 'xoxb-sandbox-', refresh: 'xoxe-1-sandbox-' },
  oauth: {
    authorizePath: '/oauth/v2/authorize',
    tokenPath: '/api/oauth.v2.access',
    defaultTtlSeconds: 43200,
    tokenError(kind) {
      const code = {
        invalid_code: 'invalid_code',
        invalid_refresh_token: 'invalid_refresh_token',
        invalid_client: 'invalid_client_id',
        redirect_uri_mismatch: 'bad_redirect_uri',
        invalid_request: 'invalid_arguments',
        unsupported_grant_type: 'invalid_grant_type',
      }[kind];
      return err(code);
    },
    tokenResponse(issued, account) {
      return {
        ok: true,
        app_id: 'A0SBXSWITCH',
        authed_user: { id: account.user_id },
        scope: issued.scope.join(','),
        token_type: 'bot',
        access_token: issued.accessToken,
        bot_user_id: 'U0SBXBOT01',
        refresh_token: issued.refreshToken,
        expires_in: Number.isFinite(issued.expiresIn) ? issued.expiresIn : undefined,
        team: { id: account.team_id, name: account.team },
        enterprise: null,
        is_enterprise_install: false,
      };
    },
  },
  authError(reason) {
    return err({ missing: 'not_authed', invalid: 'invalid_auth', expired: 'token_expired', revoked: 'token_revoked' }[reason]);
  },
  seed: () => ({ channels: seedChannels(), users: seedUsers(), messages: [], ticks: 0 }),
  /** A person posts in a public channel the bot is in (a `message` event to every app). */
  tick(ctx) {
    const n = ctx.state.ticks ?? 0; // absent in state files written before ticks existed
    ctx.state.ticks = n + 1;
    const channels = ctx.state.channels.filter((c) => c.is_member && !c.is_private && !c.is_archived);
    const people = ctx.state.users.filter((u) => !u.is_bot && !u.deleted && u.id !== 'USLACKBOT');
    const channel = channels[n % channels.length]!;
    const message: SlackMessage = {
      channel: channel.id,
      ts: nextTs(ctx.state, ctx.now()),
      text: CHATTER[n % CHATTER.length]!,
      user: String(people[n % people.length]!.id),
      reactions: [],
    };
    ctx.state.messages.push(message);
    if (ctx.state.messages.length > MAX_MESSAGES) ctx.state.messages.splice(0, ctx.state.messages.length - MAX_MESSAGES);
    emitEvent(ctx, slackSandbox.accounts[0]!.team_id!, messageEvent(channel, message));
  },
  routes: [
    {
      method: '*',
      path: '/api/auth.test',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        return ok({
          url: `https://${a.account.domain}.slack.com/`,
          team: a.account.team,
          user: 'switchboard',
          team_id: a.account.team_id,
          user_id: 'U0SBXBOT01',
          bot_id: 'B0SBXBOT01',
          is_enterprise_install: false,
        });
      },
    },
    {
      method: 'GET',
      path: '/api/conversations.list',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const p = params(req);
        const types = String(p.types ?? 'public_channel').split(',');
        let channels = ctx.state.channels.filter((c) => (c.is_private ? types.includes('private_channel') : types.includes('public_channel')));
        if (p.exclude_archived === 'true' || p.exclude_archived === true) channels = channels.filter((c) => !c.is_archived);
        const result = page(channels, p, 100);
        if ('status' in result) return result;
        return ok({ channels: result.items, response_metadata: { next_cursor: result.next } });
      },
    },
    {
      method: 'GET',
      path: '/api/users.list',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const result = page(ctx.state.users, params(req), 100);
        if ('status' in result) return result;
        return ok({ members: result.items, cache_ts: Math.floor(ctx.now() / 1000), response_metadata: { next_cursor: result.next } });
      },
    },
    {
      method: 'POST',
      path: '/api/chat.postMessage',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const p = params(req);
        if (!a.scope.includes('chat:write') && a.scope.length > 0) return err('missing_scope', { needed: 'chat:write', provided: a.scope.join(',') });
        const channel = findChannel(ctx.state, p.channel);
        if (!p.channel) return err('channel_not_found');
        if (!channel) return err('channel_not_found');
        if (channel.is_archived) return err('is_archived');
        if (channel.is_private && !channel.is_member) return err('not_in_channel');
        const blocks = typeof p.blocks === 'string' ? JSON.parse(p.blocks) : p.blocks;
        if (!p.text && !blocks && !p.attachments) return err('no_text');
        if (typeof p.text === 'string' && p.text.length > 40000) return err('msg_too_long');
        const ts = nextTs(ctx.state, ctx.now());
        const message: SlackMessage = {
          channel: channel.id,
          ts,
          text: String(p.text ?? ''),
          user: 'U0SBXBOT01',
          bot_id: 'B0SBXBOT01',
          reactions: [],
          ...(p.thread_ts ? { thread_ts: String(p.thread_ts) } : {}),
          ...(blocks ? { blocks } : {}),
        };
        ctx.state.messages.push(message);
        emitEvent(ctx, a.account.team_id!, messageEvent(channel, message));
        return ok({
          channel: channel.id,
          ts,
          message: {
            type: 'message',
            subtype: 'bot_message',
            text: message.text,
            user: message.user,
            bot_id: message.bot_id,
            ts,
            app_id: 'A0SBXSWITCH',
            ...(blocks ? { blocks } : {}),
            ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
          },
        });
      },
    },
    {
      method: 'GET',
      path: '/api/conversations.history',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const p = params(req);
        const channel = findChannel(ctx.state, p.channel);
        if (!channel) return err('channel_not_found');
        const messages = ctx.state.messages
          .filter((m) => m.channel === channel.id)
          .reverse()
          .map(({ channel: _c, ...m }) => ({ type: 'message', ...m, reactions: m.reactions.length ? m.reactions : undefined }));
        const result = page(messages, p, 100);
        if ('status' in result) return result;
        return ok({ messages: result.items, has_more: result.next !== '', response_metadata: { next_cursor: result.next } });
      },
    },
    {
      method: 'POST',
      path: '/api/reactions.add',
      handler(req, ctx) {
        const a = ctx.authorize(req);
        if ('error' in a) return a.error;
        const p = params(req);
        const channel = findChannel(ctx.state, p.channel);
        if (!channel) return err('channel_not_found');
        const message = ctx.state.messages.find((m) => m.channel === channel.id && m.ts === p.timestamp);
        if (!message) return err('message_not_found');
        const name = String(p.name ?? '');
        if (!/^[a-z0-9_+-]+$/.test(name)) return err('invalid_name');
        const existing = message.reactions.find((r) => r.name === name);
        if (existing?.users.includes('U0SBXBOT01')) return err('already_reacted');
        if (existing) {
          existing.users.push('U0SBXBOT01');
          existing.count++;
        } else message.reactions.push({ name, users: ['U0SBXBOT01'], count: 1 });
        emitEvent(ctx, a.account.team_id!, {
          type: 'reaction_added',
          user: 'U0SBXBOT01',
          reaction: name,
          item_user: message.user,
          item: { type: 'message', channel: channel.id, ts: message.ts },
          event_ts: nextTs(ctx.state, ctx.now()),
        });
        return ok();
      },
    },
  ],
};
