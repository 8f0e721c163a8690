import { createHash } from 'node:crypto';
import { ProviderContext, SandboxAccount, SandboxRequest, json } from '../core';
import { GraphState, graphError, graphModule, MICROSOFT_TENANT_ID, odataPage, parseFilter } from './microsoft-graph';
import { throttle } from './throttle';

export interface Team {
  id: string;
  displayName: string;
  description: string;
  isArchived: boolean;
}

export interface Channel {
  id: string;
  teamId: string;
  displayName: string;
  description: string | null;
  membershipType: 'standard' | 'private' | 'shared';
  createdDateTime: string;
}

export interface ChannelMessage {
  id: string;
  teamId: string;
  channelId: string;
  replyToId: string | null;
  createdDateTime: string;
  lastModifiedDateTime: string;
  subject: string | null;
  body: { contentType: 'text' | 'html'; content: string };
  from: { id: string; displayName: string };
}

export interface TeamsState extends GraphState {
  teams: Team[];
  channels: Channel[];
  messages: ChannelMessage[];
  /** Message ids are the creation time in ms; this keeps them unique. */
  lastMessageId: number;
  ticks: number;
}

function guid(seed: string): string {
  const h = createHash('sha1').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function channelId(seed: string): string {
  return `19:${createHash('sha1').update(seed).digest('hex').slice(0, 32)}@thread.tacv2`;
}

const COLLEAGUES = [
  { id: guid('user-maria'), displayName: 'Maria Johnson' },
  { id: guid('user-li'), displayName: 'Li Chen' },
];

function addMessage(state: TeamsState, m: Omit<ChannelMessage, 'id' | 'createdDateTime' | 'lastModifiedDateTime'>, now: number): ChannelMessage {
  const id = Math.max(now, state.lastMessageId + 1);
  state.lastMessageId = id;
  const at = new Date(id).toISOString();
  const message: ChannelMessage = { ...m, id: String(id), createdDateTime: at, lastModifiedDateTime: at };
  state.messages.push(message);
  return message;
}

function seed(): TeamsState {
  const teams: Team[] = [
    { id: guid('team-sales'), displayName: 'Sales', description: 'Sales team', isArchived: false },
    { id: guid('team-eng'), displayName: 'Engineering', description: 'Product engineering', isArchived: false },
    { id: guid('team-archive'), displayName: 'Launch 2025', description: 'Archived launch team', isArchived: true },
  ];
  const channel = (team: Team, displayName: string, at: string, description: string | null = null): Channel => ({
    id: displayName === 'General' ? `19:${team.id.replace(/-/g, '').slice(0, 32)}@thread.tacv2` : channelId(`${team.id}/${displayName}`),
    teamId: team.id,
    displayName,
    description,
    membershipType: 'standard',
    createdDateTime: at,
  });
  const channels: Channel[] = [];
  for (const team of teams) channels.push(channel(team, 'General', '2025-03-01T08:00:00Z', `${team.displayName} general`));
  channels.push(channel(teams[0]!, 'Deals', '2025-03-02T08:00:00Z', 'Deal desk'), channel(teams[0]!, 'Support escalations', '2025-03-03T08:00:00Z'));
  for (let i = 1; i <= 12; i++) channels.push(channel(teams[1]!, `Squad ${String(i).padStart(2, '0')}`, '2025-04-01T08:00:00Z'));
  const state: TeamsState = { teams, channels, messages: [], lastMessageId: 0, throttle: throttle(), ticks: 0 };
  const general = channels[0]!;
  const base = Date.parse('2026-01-05T09:00:00Z');
  for (let i = 0; i < 30; i++) {
    addMessage(
      state,
      {
        teamId: general.teamId,
        channelId: general.id,
        replyToId: null,
        subject: null,
        body: { contentType: 'html', content: `<p>Update ${i + 1}: pipeline looks good.</p>` },
        from: COLLEAGUES[i % 2]!,
      },
      base + i * 600_000,
    );
  }
  return state;
}

type Ctx = ProviderContext<TeamsState>;

function messageResource(m: ChannelMessage) {
  return {
    id: m.id,
    replyToId: m.replyToId,
    etag: m.id,
    messageType: 'message',
    createdDateTime: m.createdDateTime,
    lastModifiedDateTime: m.lastModifiedDateTime,
    lastEditedDateTime: m.lastModifiedDateTime === m.createdDateTime ? null : m.lastModifiedDateTime,
    deletedDateTime: null,
    subject: m.subject,
    summary: null,
    chatId: null,
    importance: 'normal',
    locale: 'en-us',
    webUrl: `https://teams.microsoft.com/l/message/${encodeURIComponent(m.channelId)}/${m.id}?groupId=${m.teamId}&tenantId=${MICROSOFT_TENANT_ID}&createdTime=${m.id}&parentMessageId=${m.replyToId ?? m.id}`,
    policyViolation: null,
    eventDetail: null,
    from: {
      application: null,
      device: null,
      user: { '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: m.from.id, displayName: m.from.displayName, userIdentityType: 'aadUser', tenantId: MICROSOFT_TENANT_ID },
    },
    body: m.body,
    channelIdentity: { teamId: m.teamId, channelId: m.channelId },
    attachments: [],
    mentions: [],
    reactions: [],
  };
}

function channelResource(c: Channel) {
  return {
    id: c.id,
    createdDateTime: c.createdDateTime,
    displayName: c.displayName,
    description: c.description,
    isFavoriteByDefault: null,
    email: '',
    tenantId: MICROSOFT_TENANT_ID,
    webUrl: `https://teams.microsoft.com/l/channel/${encodeURIComponent(c.id)}/${encodeURIComponent(c.displayName)}?groupId=${c.teamId}&tenantId=${MICROSOFT_TENANT_ID}`,
    membershipType: c.membershipType,
  };
}

function teamOf(ctx: Ctx, req: SandboxRequest): Team | ReturnType<typeof graphError> {
  const team = ctx.state.teams.find((t) => t.id === req.params.teamId);
  return team ?? graphError(404, 'NotFound', `No team found with Group Id ${req.params.teamId}`);
}

function channelOf(ctx: Ctx, req: SandboxRequest): Channel | ReturnType<typeof graphError> {
  const team = teamOf(ctx, req);
  if ('status' in team) return team;
  const channel = ctx.state.channels.find((c) => c.teamId === team.id && c.id === req.params.channelId);
  return channel ?? graphError(404, 'NotFound', 'Channel not found');
}

function postMessage(req: SandboxRequest, ctx: Ctx, me: SandboxAccount, replyToId: string | null) {
  const channel = channelOf(ctx, req);
  if ('status' in channel) return channel;
  const team = ctx.state.teams.find((t) => t.id === channel.teamId)!;
  if (team.isArchived) return graphError(403, 'Forbidden', 'The team is archived: its channels are read-only.');
  const body = (req.body ?? {}) as { subject?: unknown; body?: { contentType?: unknown; content?: unknown } };
  const content = body.body?.content;
  if (typeof content !== 'string' || !content.trim()) return graphError(400, 'BadRequest', 'Missing body content');
  const type = String(body.body?.contentType ?? 'text').toLowerCase();
  if (type !== 'text' && type !== 'html') return graphError(400, 'BadRequest', `Invalid contentType: ${body.body?.contentType}`);
  if (replyToId && !ctx.state.messages.some((m) => m.channelId === channel.id && m.id === replyToId && !m.replyToId)) return graphError(404, 'NotFound', 'Message not found');
  const message = addMessage(
    ctx.state,
    {
      teamId: channel.teamId,
      channelId: channel.id,
      replyToId,
      subject: typeof body.subject === 'string' ? body.subject : null,
      body: { contentType: type, content },
      from: { id: me.id, displayName: me.name },
    },
    ctx.now(),
  );
  return json(201, {
    '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#teams('${channel.teamId}')/channels('${encodeURIComponent(channel.id)}')/messages/$entity`,
    ...messageResource(message),
  });
}

/** Characters Teams refuses in a channel name. */
const BAD_CHANNEL_CHARS = /[~#%&*{}+/\\:<>?|'"]/;

export const microsoftTeamsSandbox = graphModule<TeamsState>({
  key: 'microsoft-teams',
  displayName: 'Microsoft',
  seed,
  routes: [
    {
      method: 'GET',
      path: '/v1.0/me/joinedTeams',
      handler(_req, ctx) {
        const teams = ctx.state.teams.map((t) => ({ id: t.id, displayName: t.displayName, description: t.description, isArchived: t.isArchived, tenantId: MICROSOFT_TENANT_ID }));
        return json(200, { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#teams', '@odata.count': teams.length, value: teams });
      },
    },
    {
      method: 'GET',
      path: '/v1.0/teams/:teamId/channels',
      handler(req, ctx) {
        const team = teamOf(ctx, req);
        if ('status' in team) return team;
        let channels = ctx.state.channels.filter((c) => c.teamId === team.id);
        const filterExpr = req.query.get('$filter');
        if (filterExpr !== null) {
          const filter = parseFilter<Channel>(filterExpr, { membershipType: 'string' }, (c, f) => c[f as keyof Channel]);
          if ('error' in filter) return graphError(400, 'BadRequest', filter.error);
          channels = channels.filter(filter.test);
        }
        return json(200, {
          '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#teams('${team.id}')/channels`,
          '@odata.count': channels.length,
          value: channels.map(channelResource),
        });
      },
    },
    {
      method: 'POST',
      path: '/v1.0/teams/:teamId/channels',
      handler(req, ctx) {
        const team = teamOf(ctx, req);
        if ('status' in team) return team;
        const body = (req.body ?? {}) as { displayName?: unknown; description?: unknown; membershipType?: unknown };
        const name = typeof body.displayName === 'string' ? body.displayName.trim() : '';
        if (!name) return graphError(400, 'BadRequest', 'Channel name cannot be empty.');
        if (name.length > 50 || BAD_CHANNEL_CHARS.test(name)) return graphError(400, 'BadRequest', 'Channel name contains invalid characters or is longer than 50 characters.');
        if (ctx.state.channels.some((c) => c.teamId === team.id && c.displayName.toLowerCase() === name.toLowerCase()))
          return graphError(400, 'BadRequest', 'Channel name already existed, please use other name.');
        const membershipType = body.membershipType ?? 'standard';
        if (membershipType !== 'standard' && membershipType !== 'private') return graphError(400, 'BadRequest', `Invalid membershipType: ${String(membershipType)}`);
        const channel: Channel = {
          id: channelId(`${team.id}/${name}/${ctx.now()}`),
          teamId: team.id,
          displayName: name,
          description: typeof body.description === 'string' ? body.description : null,
          membershipType,
          createdDateTime: new Date(ctx.now()).toISOString(),
        };
        ctx.state.channels.push(channel);
        return json(201, { '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#teams('${team.id}')/channels/$entity`, ...channelResource(channel) });
      },
    },
    {
      method: 'GET',
      path: '/v1.0/teams/:teamId/channels/:channelId/messages',
      handler(req, ctx) {
        const channel = channelOf(ctx, req);
        if ('status' in channel) return channel;
        const roots = ctx.state.messages
          .filter((m) => m.channelId === channel.id && !m.replyToId)
          .sort((a, b) => b.lastModifiedDateTime.localeCompare(a.lastModifiedDateTime) || b.id.localeCompare(a.id));
        return odataPage(req, ctx, roots.map(messageResource), {
          context: `teams('${channel.teamId}')/channels('${encodeURIComponent(channel.id)}')/messages`,
          defaultTop: 20,
          maxTop: 50,
          skipToken: true,
        });
      },
    },
    {
      method: 'GET',
      path: '/v1.0/teams/:teamId/channels/:channelId/messages/delta',
      handler(req, ctx) {
        const channel = channelOf(ctx, req);
        if ('status' in channel) return channel;
        let roots = ctx.state.messages.filter((m) => m.channelId === channel.id && !m.replyToId);
        const filterExpr = req.query.get('$filter');
        if (filterExpr !== null) {
          // Delta takes only `lastModifiedDateTime gt …`.
          if (!/^\s*lastModifiedDateTime\s+gt\s+\S+\s*$/.test(filterExpr))
            return graphError(400, 'BadRequest', `Unsupported filter: ${filterExpr}. Only lastModifiedDateTime gt is supported.`);
          const filter = parseFilter<ChannelMessage>(filterExpr, { lastModifiedDateTime: 'date' }, (m, f) => m[f as keyof ChannelMessage]);
          if ('error' in filter) return graphError(400, 'BadRequest', filter.error);
          roots = roots.filter(filter.test);
        }
        roots.sort((a, b) => a.lastModifiedDateTime.localeCompare(b.lastModifiedDateTime) || a.id.localeCompare(b.id));
        const page = odataPage(req, ctx, roots.map(messageResource), { context: 'Collection(chatMessage)', defaultTop: 50, maxTop: 50, skipToken: true });
        const body = page.body as Record<string, unknown>;
        if (page.status === 200 && !body['@odata.nextLink']) {
          body['@odata.deltaLink'] = `${ctx.providerUrl}${req.path}?$deltatoken=${Buffer.from(`sbx~${ctx.state.lastMessageId}`).toString('base64url')}`;
        }
        return page;
      },
    },
    {
      method: 'GET',
      path: '/v1.0/teams/:teamId/channels/:channelId/messages/:messageId',
      handler(req, ctx) {
        const channel = channelOf(ctx, req);
        if ('status' in channel) return channel;
        const m = ctx.state.messages.find((x) => x.channelId === channel.id && x.id === req.params.messageId);
        return m ? json(200, messageResource(m)) : graphError(404, 'NotFound', 'Message not found');
      },
    },
    { method: 'POST', path: '/v1.0/teams/:teamId/channels/:channelId/messages', handler: (req, ctx, me) => postMessage(req, ctx, me, null) },
    { method: 'POST', path: '/v1.0/teams/:teamId/channels/:channelId/messages/:messageId/replies', handler: (req, ctx, me) => postMessage(req, ctx, me, req.params.messageId!) },
  ],
  tick(ctx) {
    const n = ++ctx.state.ticks;
    const general = ctx.state.channels[0]!;
    addMessage(
      ctx.state,
      {
        teamId: general.teamId,
        channelId: general.id,
        replyToId: null,
        subject: null,
        body: { contentType: 'html', content: `<p>Heads-up #${n}: a customer asked for a demo.</p>` },
        from: COLLEAGUES[n % 2]!,
      },
      ctx.now(),
    );
  },
});
