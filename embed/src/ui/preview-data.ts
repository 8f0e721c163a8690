import type { Widget } from '../widget';

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const connection = (connector: string, accountName: string, status: 'active' | 'needs_reauth' = 'active') => ({
  id: `preview-${connector}`,
  connector,
  endUserId: 'preview',
  status,
  accountId: connector,
  accountName,
  scopes: [],
  config: {},
  expiresAt: null,
  lastRefreshedAt: null,
  lastError: null,
  createdAt: ago(5000),
  updatedAt: ago(60),
});

/** Sample integrations for the theme editor's preview (portal): the catalogue as an end user would see it. */
export function previewData(widget: Widget): void {
  widget.tenantName.value = 'Acme';
  widget.integrations.value = [
    {
      key: 'slack',
      name: 'Slack',
      description: '',
      category: 'Communication',
      categories: ['Communication'],
      authType: 'oauth2',
      connection: connection('slack', 'Acme workspace'),
    },
    { key: 'hubspot', name: 'HubSpot', description: '', category: 'CRM', categories: ['CRM'], authType: 'oauth2', connection: null },
    {
      key: 'salesforce',
      name: 'Salesforce',
      description: '',
      category: 'CRM',
      categories: ['CRM'],
      authType: 'oauth2',
      connection: connection('salesforce', 'acme.my.salesforce.com', 'needs_reauth'),
    },
    { key: 'github', name: 'GitHub', description: '', category: 'Developer tools', categories: ['Developer tools'], authType: 'oauth2', connection: null },
    { key: 'notion', name: 'Notion', description: '', category: 'Productivity', categories: ['Productivity'], authType: 'oauth2', connection: null },
    { key: 'stripe', name: 'Stripe', description: '', category: 'Payments', categories: ['Payments'], authType: 'api_key', connection: null },
  ];
  widget.status.value = 'ready';
}
