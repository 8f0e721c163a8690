import { useSignal } from '@preact/signals';
import { useRef } from 'preact/hooks';
import { api, ApiError, messageOf, type FlowTemplate } from '../api';
import { Link, navigate } from '../router';
import { activeEnvironment, can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { TextField } from '../ui/field';
import { EmptyState, PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Time } from '../ui/time';
import { FlushCard, Table } from '../ui/table';
import { triggerSummary } from './flow-outline';

/** A key from a name: "Post won deals to Slack" → "post-won-deals-to-slack". */
export const slugOf = (name: string): string =>
  name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);

/** What a new template starts with: valid, small, and showing the shape of a flow. */
export const starterDefinition = (key: string, name: string) => ({
  key,
  name,
  description: '',
  trigger: { type: 'event', event: 'record.created' },
  connectors: [],
  inputs: {},
  steps: [{ id: 'summary', type: 'transform', output: { text: "='New record: ' & $trigger.name" } }],
});

/** Whether the draft differs from the latest published version. */
export function hasUnpublishedChanges(template: FlowTemplate): boolean {
  const latest = template.versions.find((v) => v.version === template.latestVersion);
  if (!latest) return true;
  return canonical(template.draft) !== canonical(latest.definition);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export function Flows() {
  const templates = useResource(() => api.templates(), []);
  // Names connectors and their triggers in the trigger column.
  const catalogue = useResource(() => api.connectors(), []);
  return (
    <>
      <PageHeader
        title="Flows"
        description="Flow templates are the ready-made automations your customers switch on in the widget. Edit a draft, publish it as a version; customers stay on their version until they upgrade."
      />
      {can('developer') &&
        (activeEnvironment.value?.protected ? (
          <Alert tone="info" title={`${activeEnvironment.value.name} is protected`}>
            Flow templates reach it by promotion: create and publish them in another environment, then promote them here from the flow’s page.
          </Alert>
        ) : (
          <CreateFlow />
        ))}
      <FlushCard titleId="flows-title" title="Templates" aside={templates.data.value && <span class="muted small">{templates.data.value.data.length} in total</span>}>
        <Loaded resource={templates} what="the flow templates">
          {(page) =>
            page.data.length === 0 ? (
              <EmptyState title="No flows yet">
                {can('developer') ? 'Name your first flow above; you will land in the editor with a small example to start from.' : 'Developers of your team create flows here.'}
              </EmptyState>
            ) : (
              <Table columns={['Flow', 'Trigger', 'Version', 'Updated']}>
                {page.data.map((t) => (
                  <tr key={t.id} data-flow={t.key}>
                    <th scope="row">
                      <Link to={`flows/${t.key}`} class="cell-link">
                        {t.name}
                      </Link>
                      <code class="action-code">{t.key}</code>
                    </th>
                    <td>{triggerSummary((t.draft as { trigger?: unknown }).trigger, catalogue.data.value?.data)}</td>
                    <td>{t.latestVersion > 0 ? <Badge tone="success">v{t.latestVersion}</Badge> : <Badge tone="neutral">Draft only</Badge>}</td>
                    <td>
                      <Time iso={t.updatedAt} relative />
                    </td>
                  </tr>
                ))}
              </Table>
            )
          }
        </Loaded>
      </FlushCard>
    </>
  );
}

function CreateFlow() {
  const name = useSignal('');
  const key = useSignal('');
  const keyEdited = useSignal(false);
  const busy = useSignal(false);
  const errors = useSignal<Record<string, string>>({});
  const formError = useSignal<string | null>(null);
  const nameInput = useRef<HTMLInputElement>(null);

  async function create(event: Event) {
    event.preventDefault();
    if (busy.value) return;
    const wantedKey = (keyEdited.value ? key.value : slugOf(name.value)).trim();
    const local: Record<string, string> = {};
    if (!name.value.trim()) local.name = 'Give the flow a name, such as “Post won deals to Slack”.';
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(wantedKey)) local.key = 'Use lowercase letters, digits and dashes, starting with a letter or digit.';
    errors.value = local;
    formError.value = null;
    if (Object.keys(local).length) {
      nameInput.current?.focus();
      return;
    }
    busy.value = true;
    try {
      const created = await api.createTemplate(starterDefinition(wantedKey, name.value.trim()));
      navigate(`flows/${created.key}`);
    } catch (caught) {
      if (caught instanceof ApiError) {
        const fields = caught.fieldErrors;
        errors.value = {
          key: fields['definition.key'] ?? (caught.code === 'conflict' ? `A flow with the key ${wantedKey} exists already.` : ''),
          name: fields['definition.name'] ?? '',
        };
        if (!errors.value.key && !errors.value.name) formError.value = caught.message;
      } else formError.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }

  return (
    <section class="card" aria-labelledby="new-flow-title">
      <h2 id="new-flow-title" class="card-title">
        New flow
      </h2>
      {formError.value && <Alert tone="error">{formError.value}</Alert>}
      <form class="inline-form" onSubmit={create} noValidate>
        <TextField
          label="Name"
          name="flowName"
          placeholder="e.g. Post won deals to Slack"
          autoComplete="off"
          maxLength={200}
          value={name.value}
          onValue={(v) => {
            name.value = v;
            if (!keyEdited.value) key.value = slugOf(v);
          }}
          error={errors.value.name || undefined}
          inputRef={nameInput}
          class="grow"
        />
        <TextField
          label="Key"
          name="flowKey"
          placeholder="post-won-deals-to-slack"
          autoComplete="off"
          spellcheck={false}
          maxLength={63}
          hint="How your backend and the API refer to it. Cannot change later."
          value={key.value}
          onValue={(v) => {
            key.value = v;
            keyEdited.value = true;
          }}
          error={errors.value.key || undefined}
          class="grow"
        />
        <button type="submit" class="btn btn-primary" disabled={busy.value}>
          {busy.value ? 'Creating…' : 'Create flow'}
        </button>
      </form>
    </section>
  );
}
