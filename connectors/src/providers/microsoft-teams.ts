import type { Static } from '@sinclair/typebox';
import { send } from '../runtime';
import { ActionContext, defineAction, defineConnector, definePollTrigger } from '../types';
import { advance, GRAPH_BASE_URL, graphAccount, graphCollect, GraphPage, microsoftAuth, tenantField, TimeCursor } from './microsoft-graph';
import { arr, int, logo, matches, nullable, obj, oneOf, pageLocally, res, str } from './shared';

export interface ChatMessage {
  id: string;
  replyToId: string | null;
  createdDateTime: string;
  lastModifiedDateTime?: string;
  deletedDateTime?: string | null;
  subject: string | null;
  body: { contentType: 'text' | 'html'; content: string };
  from?: { user?: { id: string; displayName: string } | null; application?: { id: string; displayName: string } | null } | null;
  channelIdentity?: { teamId: string; channelId: string };
  webUrl?: string;
}

export interface Team {
  id: string;
  displayName: string;
  description?: string;
  isArchived?: boolean;
}

export interface Channel {
  id: string;
  displayName: string;
  description?: string | null;
  membershipType?: string;
  webUrl?: string;
  createdDateTime?: string;
}

/** A channel message as actions and the trigger hand it on. */
const messageSchema = res(
  {
    id: str('Message id'),
    team_id: str('Team id'),
    channel_id: str('Channel id'),
    reply_to_id: nullable(str('Reply to')),
    created_at: str('Created', { format: 'date-time' }),
    subject: nullable(str('Subject')),
    content: str('Content'),
    content_type: oneOf({ enum: ['text', 'html'] }),
    from_id: str('Author id'),
    from_name: str('Author'),
    web_url: str('Link'),
  },
  ['id', 'team_id', 'channel_id', 'created_at', 'content'],
);
type TeamsMessage = Static<typeof messageSchema>;

function toMessage(m: ChatMessage, teamId: string, channelId: string): TeamsMessage {
  const author = m.from?.user ?? m.from?.application;
  return {
    id: m.id,
    team_id: m.channelIdentity?.teamId ?? teamId,
    channel_id: m.channelIdentity?.channelId ?? channelId,
    reply_to_id: m.replyToId,
    created_at: m.createdDateTime,
    subject: m.subject,
    content: m.body.content,
    content_type: m.body.contentType,
    from_id: author?.id ?? '',
    from_name: author?.displayName ?? '',
    web_url: m.webUrl ?? '',
  };
}

const channelSchema = res({ id: str('Channel id'), displayName: str('Name'), description: nullable(str()), membershipType: str('Membership'), webUrl: str('Link') }, [
  'id',
  'displayName',
]);

const TEAM = str('Team', { description: 'Team (group) id', minLength: 1, 'x-options': 'teams' });
const CHANNEL = str('Channel', { description: 'Channel id (19:…@thread.tacv2) in the team', minLength: 1, 'x-options': 'channels' });
const contentType = oneOf({ title: 'Format', enum: ['text', 'html'], default: 'html' });

function channelPath(teamId: string, channelId: string, rest = ''): string {
  return `teams/${encodeURIComponent(teamId)}/channels/${encodeURIComponent(channelId)}${rest}`;
}

const sendChannelMessage = defineAction({
  name: 'Send channel message',
  description: 'Posts a message to a channel as the connected user.',
  readOnly: false,
  retrySafe: false,
  input: obj(
    { team_id: TEAM, channel_id: CHANNEL, content: str('Message', { minLength: 1, maxLength: 28000 }), content_type: contentType, subject: str('Subject', { maxLength: 255 }) },
    ['team_id', 'channel_id', 'content'],
  ),
  output: messageSchema,
  async run(ctx, input) {
    const body: Record<string, unknown> = { body: { contentType: input.content_type ?? 'html', content: input.content } };
    if (input.subject) body.subject = input.subject;
    return toMessage(await send<ChatMessage>(ctx, { method: 'POST', path: channelPath(input.team_id, input.channel_id, '/messages'), body }), input.team_id, input.channel_id);
  },
});

const replyToMessage = defineAction({
  name: 'Reply to channel message',
  description: 'Replies in the thread of a channel message.',
  readOnly: false,
  retrySafe: false,
  input: obj(
    { team_id: TEAM, channel_id: CHANNEL, message_id: str('Message id', { minLength: 1 }), content: str('Reply', { minLength: 1, maxLength: 28000 }), content_type: contentType },
    ['team_id', 'channel_id', 'message_id', 'content'],
  ),
  output: messageSchema,
  async run(ctx, input) {
    const path = channelPath(input.team_id, input.channel_id, `/messages/${encodeURIComponent(input.message_id)}/replies`);
    return toMessage(
      await send<ChatMessage>(ctx, { method: 'POST', path, body: { body: { contentType: input.content_type ?? 'html', content: input.content } } }),
      input.team_id,
      input.channel_id,
    );
  },
});

const createChannel = defineAction({
  name: 'Create channel',
  description: 'Creates a standard channel in a team; the name must be new in the team.',
  // A repeat fails (the name exists) rather than making a second channel, but the flow would see an error.
  readOnly: false,
  retrySafe: false,
  input: obj(
    { team_id: TEAM, display_name: str('Name', { minLength: 1, maxLength: 50, pattern: '^[^~#%&*{}+/\\\\:<>?|\'"]+$' }), description: str('Description', { maxLength: 1024 }) },
    ['team_id', 'display_name'],
  ),
  output: channelSchema,
  async run(ctx, input) {
    return send<Channel>(ctx, {
      method: 'POST',
      path: `teams/${encodeURIComponent(input.team_id)}/channels`,
      body: { displayName: input.display_name, description: input.description, membershipType: 'standard' },
    });
  },
});

const listChannelMessages = defineAction({
  name: 'List channel messages',
  description: 'The newest messages of a channel (not replies), newest first. Needs ChannelMessage.Read.All, which an admin must consent to.',
  readOnly: true,
  retrySafe: true,
  input: obj({ team_id: TEAM, channel_id: CHANNEL, top: int('Max messages', { minimum: 1, maximum: 200, default: 20 }) }, ['team_id', 'channel_id']),
  output: res({ messages: arr(messageSchema) }, ['messages']),
  async run(ctx, input) {
    const top = input.top ?? 20;
    const { items } = await graphCollect<ChatMessage>(
      ctx,
      { path: channelPath(input.team_id, input.channel_id, '/messages'), query: { $top: Math.min(50, top) } },
      { enough: top },
    );
    return { messages: items.slice(0, top).map((m) => toMessage(m, input.team_id, input.channel_id)) };
  },
});

async function joinedTeams(ctx: ActionContext): Promise<Team[]> {
  const page = await send<GraphPage<Team>>(ctx, { method: 'GET', path: 'me/joinedTeams' });
  return page.value.slice().sort((a, b) => a.displayName.localeCompare(b.displayName) || a.id.localeCompare(b.id));
}

const byCreation = (a: ChatMessage, b: ChatMessage) => a.createdDateTime.localeCompare(b.createdDateTime) || a.id.localeCompare(b.id);
const EPOCH: TimeCursor = { at: '1970-01-01T00:00:00.000Z', ids: [] };

const newChannelMessage = definePollTrigger<TimeCursor>()({
  name: 'New channel message',
  description: 'A message (not a reply) is posted in the channel, oldest first; reads the channel delta since the last poll. Needs ChannelMessage.Read.All (admin consent).',
  input: obj({ team_id: TEAM, channel_id: CHANNEL }, ['team_id', 'channel_id']),
  output: messageSchema,
  intervalSeconds: 120,
  minIntervalSeconds: 60,
  async poll(ctx, { input, cursor, limit }) {
    const { team_id: teamId, channel_id: channelId } = input;
    const data = (m: ChatMessage) => ({ id: m.id, data: { ...toMessage(m, teamId, channelId) } });
    if (!cursor) {
      const { items } = await graphCollect<ChatMessage>(ctx, { path: channelPath(teamId, channelId, '/messages'), query: { $top: Math.min(50, limit) } }, { enough: limit });
      const newest = items.sort(byCreation).slice(-limit);
      return { items: newest.map(data), cursor: advance(EPOCH, newest, (m) => m.createdDateTime) };
    }
    // Delta filters on modification only, strictly after: a millisecond earlier keeps messages created at the mark.
    const since = new Date(Date.parse(cursor.at) - 1).toISOString();
    const { items } = await graphCollect<ChatMessage>(ctx, {
      path: channelPath(teamId, channelId, '/messages/delta'),
      query: { $filter: `lastModifiedDateTime gt ${since}`, $top: 50 },
    });
    const fresh = items
      .filter((m) => !m.deletedDateTime && !m.replyToId && (m.createdDateTime > cursor.at || (m.createdDateTime === cursor.at && !cursor.ids.includes(m.id))))
      .sort(byCreation);
    const taken = fresh.slice(0, limit);
    return { items: taken.map(data), cursor: advance(cursor, taken, (m) => m.createdDateTime), ...(fresh.length > limit ? { more: true } : {}) };
  },
});

export const microsoftTeamsConnector = defineConnector({
  key: 'microsoft-teams',
  name: 'Microsoft Teams',
  description: 'Post and reply to Teams channel messages, create channels, and start flows on new channel messages.',
  logo: logo(
    '#5059C9',
    '<rect x="12" y="20" width="26" height="26" rx="3" fill="#fff"/><path d="M18 27h14M25 27v13" stroke="#5059C9" stroke-width="4"/><circle cx="45" cy="22" r="6" fill="#fff"/><path d="M40 32h12v10a6 6 0 0 1-12 0z" fill="#fff"/>',
  ),
  categories: ['communication'],
  docsUrl: 'https://learn.microsoft.com/en-us/graph/api/resources/teams-api-overview',
  // Beyond the catalogue's: Channel.Create (create channel) and ChannelMessage.Read.All (list
  // messages, the trigger), which needs admin consent.
  auth: microsoftAuth(['Team.ReadBasic.All', 'Channel.ReadBasic.All', 'Channel.Create', 'ChannelMessage.Send', 'ChannelMessage.Read.All', 'Chat.ReadWrite']),
  connectionConfig: tenantField('organizations', "organizations (any work or school account) or your directory's tenant ID or domain. Teams has no personal accounts."),
  baseUrl: GRAPH_BASE_URL,
  actions: { send_channel_message: sendChannelMessage, reply_to_message: replyToMessage, create_channel: createChannel, list_channel_messages: listChannelMessages },
  options: {
    teams: {
      name: 'Teams',
      description: 'Teams the user is a member of',
      async run(ctx, { search, cursor }) {
        const teams = (await joinedTeams(ctx)).filter((t) => matches(search, t.displayName, t.description));
        return pageLocally(
          teams.map((t) => ({ value: t.id, label: t.displayName, description: t.isArchived ? 'Archived' : t.description })),
          cursor,
        );
      },
    },
    channels: {
      name: 'Channels',
      description: "Channels of the user's teams, one team per page",
      async run(ctx, { search, cursor }) {
        const teams = await joinedTeams(ctx);
        const index = cursor ? Number.parseInt(cursor, 10) || 0 : 0;
        const team = teams[index];
        if (!team) return { options: [] };
        const page = await send<GraphPage<Channel>>(ctx, { method: 'GET', path: `teams/${encodeURIComponent(team.id)}/channels` });
        const options = page.value
          .filter((c) => matches(search, c.displayName, team.displayName))
          .map((c) => ({ value: c.id, label: `${team.displayName} › ${c.displayName}`, description: `Team ${team.id}` }));
        return index + 1 < teams.length ? { options, nextCursor: String(index + 1) } : { options };
      },
    },
  },
  triggers: { new_channel_message: newChannelMessage },
  account: graphAccount,
});
