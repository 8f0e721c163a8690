import { useSignal } from '@preact/signals';
import { t } from '../i18n';
import type { Integration } from '../types';
import { type Route, usesConnector, type Widget } from '../widget';
import { StatusBadge } from './catalogue';
import { Confirm } from './confirm';
import { ApprovalItem, FlowCard } from './flow';
import { BackIcon, WarnIcon } from './icons';
import { Logo } from './logo';

/** One integration: its connection (connect, reconnect, disconnect) and the automations that use it. */
export function IntegrationPage({ widget, connector, go, standalone }: { widget: Widget; connector: string; go: (route: Route) => void; standalone?: boolean }) {
  const integration = widget.integrations.value.find((i) => i.key === connector);
  const back = !standalone && (
    <button type="button" class="link" onClick={() => go({ screen: 'catalogue' })}>
      <BackIcon /> {t('back')}
    </button>
  );
  if (!integration) {
    return (
      <>
        {back}
        <div class="center" role="alert">
          <p>{t('notEnabled', { name: connector })}</p>
        </div>
      </>
    );
  }
  const flows = widget.flows.value.filter((f) => usesConnector(f, connector));
  // Calls an AI assistant made with this account (over MCP) that wait for the end user's go.
  const assistantAsks = widget.approvals.value.filter((a) => a.tool && a.tool.split('_')[0] === connector);
  const connected = integration.connection?.status === 'active';
  return (
    <>
      {back}
      <div class="hero">
        <Logo url={integration.logoUrl} monogram={integration.monogram} name={integration.name} big />
        <div class="grow">
          <h2 style={{ fontSize: '18px' }}>{integration.name}</h2>
          {integration.description && <p>{integration.description}</p>}
        </div>
      </div>
      <ConnectionPanel widget={widget} integration={integration} />
      {assistantAsks.length > 0 && (
        <>
          <div class="section-title">
            <h2>{t('assistantAsks')}</h2>
          </div>
          <div class="section">
            {assistantAsks.map((approval) => (
              <ApprovalItem key={approval.id} widget={widget} approval={approval} />
            ))}
          </div>
        </>
      )}
      <div class="section-title">
        <h2>{t('automations')}</h2>
      </div>
      {flows.length === 0 ? (
        <p class="empty">{t('noFlows', { name: integration.name })}</p>
      ) : (
        <>
          {!connected && <p class="alert info">{t('connectFirst', { name: integration.name })}</p>}
          <div class="section">
            {flows.map((flow) => (
              <FlowCard key={flow.key} widget={widget} flow={flow} connected={connected} />
            ))}
          </div>
        </>
      )}
    </>
  );
}

function ConnectionPanel({ widget, integration }: { widget: Widget; integration: Integration }) {
  const confirming = useSignal(false);
  const busy = useSignal(false);
  const failure = useSignal<string | null>(null);
  const { connection, name } = integration;
  const state = widget.connecting.value[integration.key];
  const connect = (connectionId?: string) => widget.connect(integration.key, connectionId ? { connectionId } : {}).catch(() => undefined);

  const disconnect = async () => {
    busy.value = true;
    failure.value = null;
    try {
      await widget.disconnect(connection!.id);
      confirming.value = false;
    } catch (error) {
      failure.value = (error as Error).message;
    } finally {
      busy.value = false;
    }
  };

  return (
    <div class="panel">
      <div class="row">
        <div class="grow">
          {connection ? (
            <>
              <StatusBadge connection={connection} />
              <p style={{ marginTop: '6px' }}>{t('connectedAs', { account: connection.accountName })}</p>
            </>
          ) : (
            <p class="muted">{t('notConnected')}</p>
          )}
        </div>
        {connection && connection.status !== 'active' && (
          <button type="button" class="btn primary" onClick={() => connect(connection.id)} disabled={state?.phase === 'waiting'}>
            {t('reconnect')}
          </button>
        )}
        {connection ? (
          <button type="button" class="btn danger" onClick={() => (confirming.value = true)}>
            {t('disconnect')}
          </button>
        ) : (
          <button type="button" class="btn primary" onClick={() => connect()} disabled={state?.phase === 'waiting'}>
            {t('connect', { name })}
          </button>
        )}
      </div>
      {connection?.status === 'needs_reauth' && (
        <p class="alert warn">
          <WarnIcon /> <span class="grow">{t('reauthHint', { name })}</span>
        </p>
      )}
      {state?.phase === 'waiting' && (
        <div class="alert info" role="status">
          <span class="spinner" />
          <span class="grow">{t('connecting')}</span>
          <button type="button" class="btn secondary" onClick={() => widget.cancelConnect(integration.key)}>
            {t('cancel')}
          </button>
        </div>
      )}
      {state?.phase === 'failed' && state.code !== 'cancelled' && (
        <div class="alert bad" role="alert">
          <span class="grow">{state.message}</span>
          <button type="button" class="btn secondary" onClick={() => connect(connection?.id)}>
            {t('tryAgain')}
          </button>
        </div>
      )}
      {confirming.value && connection && (
        <Confirm
          title={t('disconnectTitle', { name })}
          confirm={t('disconnect')}
          busy={busy.value}
          error={failure.value}
          onConfirm={disconnect}
          onCancel={() => {
            confirming.value = false;
            failure.value = null;
          }}
        >
          {t('disconnectBody', { account: connection.accountName })}
        </Confirm>
      )}
    </div>
  );
}
