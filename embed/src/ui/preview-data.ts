import type { Widget } from '../widget';

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
const connection = (connector: string, accountName: string, status: 'active' | 'needs_reauth' = 'active') => ({
  id: `preview-${connector}`,
  connector,
  status,
  accountId: connector,
  accountName,
  lastError: null,
  createdAt: ago(5000),
  updatedAt: ago(60),
});

/** Sample integrations for the theme editor's preview (portal): the catalogue as an end user would see it. */
export function previewData(widget: Widget): void {
  widget.tenantName.value = 'Acme';
  widget.integrations.value = [
    { key: 'slack', name: 'Slack', category: 'Communication', authType: 'oauth2', connection: connection('slack', 'Acme workspace') },
    { key: 'hubspot', name: 'HubSpot', category: 'CRM', authType: 'oauth2', connection: null },
    { key: 'salesforce', name: 'Salesforce', category: 'CRM', authType: 'oauth2', connection: connection('salesforce', 'acme.my.salesforce.com', 'needs_reauth') },
    { key: 'github', name: 'GitHub', category: 'Developer tools', authType: 'oauth2', connection: null },
    { key: 'notion', name: 'Notion', category: 'Productivity', authType: 'oauth2', connection: null },
    { key: 'stripe', name: 'Stripe', category: 'Payments', authType: 'api_key', connection: null },
  ];
  widget.status.value = 'ready';
}
