import { useSignal } from '@preact/signals';
import { ApiError, messageOf, request, type OpenApiImport, type OpenApiListSpec, type OpenApiOperation } from '../api';
import { can } from '../session';
import { Alert, Badge } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { Field, TextField } from '../ui/field';
import { useResource } from '../ui/resource';
import { toast } from '../ui/toast';

const path = (key: string) => `/v1/admin/connectors/${encodeURIComponent(key)}/openapi`;
export const openApiApi = {
  get: (key: string) => request<OpenApiImport>('GET', path(key)),
  put: (key: string, source: { url: string } | { document: string }) => request<OpenApiImport>('PUT', path(key), source),
  setOptionSources: (key: string, optionSources: Record<string, OpenApiListSpec | null>) => request<OpenApiImport>('PATCH', path(key), { optionSources }),
  remove: (key: string) => request<void>('DELETE', path(key)),
};

/**
 * The connector page's "OpenAPI actions" panel: attach a document (paste, file or URL), see the
 * actions its operations became and what was left out, choose option sources, remove it.
 */
export function ConnectorOpenApi({ connectorKey, onChanged }: { connectorKey: string; onChanged: () => void }) {
  const current = useResource(() => openApiApi.get(connectorKey).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))), [connectorKey]);
  const editable = can('admin');
  const mode = useSignal<'paste' | 'url'>('paste');
  const text = useSignal('');
  const url = useSignal('');
  const busy = useSignal(false);
  const error = useSignal<{ message: string; pointer?: string } | null>(null);
  const confirmingRemove = useSignal(false);
  /** The action whose option fields are being changed. */
  const editing = useSignal<string | null>(null);
  const imported = current.data.value;

  async function submit(event: Event) {
    event.preventDefault();
    if (busy.value) return;
    const source = mode.value === 'url' ? { url: url.value.trim() } : { document: text.value };
    if (mode.value === 'url' ? !url.value.trim() : !text.value.trim()) {
      error.value = { message: mode.value === 'url' ? 'Enter the URL of an OpenAPI 3 document.' : 'Paste an OpenAPI 3 document (JSON or YAML) or choose a file.' };
      return;
    }
    busy.value = true;
    error.value = null;
    try {
      const result = await openApiApi.put(connectorKey, source);
      current.data.value = result;
      text.value = '';
      toast(`Imported ${result.operations.length} actions from ${result.title || 'the document'}`);
      onChanged();
    } catch (caught) {
      const pointer = caught instanceof ApiError && typeof caught.details.pointer === 'string' ? caught.details.pointer : undefined;
      error.value = { message: messageOf(caught), ...(pointer ? { pointer } : {}) };
    } finally {
      busy.value = false;
    }
  }

  async function readFile(file: File | undefined) {
    if (!file) return;
    text.value = await file.text();
    mode.value = 'paste';
  }

  async function toggleOptionSource(operation: OpenApiOperation) {
    try {
      const next = await openApiApi.setOptionSources(connectorKey, { [operation.key]: operation.optionSource ? null : (operation.detectedOptionSource ?? GUESSED_LIST) });
      current.data.value = next;
      onChanged();
    } catch (caught) {
      error.value = { message: messageOf(caught) };
    }
  }

  async function remove() {
    busy.value = true;
    try {
      await openApiApi.remove(connectorKey);
      current.data.value = null;
      confirmingRemove.value = false;
      toast('Removed the OpenAPI document and its actions');
      onChanged();
    } catch (caught) {
      error.value = { message: messageOf(caught) };
    } finally {
      busy.value = false;
    }
  }

  return (
    <section class="card openapi-panel" aria-labelledby="openapi-title">
      <h2 id="openapi-title" class="card-title">
        OpenAPI actions
      </h2>
      <p class="muted">
        Attach the provider's OpenAPI 3 document: each operation becomes an action flows can use through the end user's connection, and reads that list things can fill settings
        dropdowns. Calls go to the connection's base URL.
      </p>
      {current.error.value && <Alert tone="error">{current.error.value}</Alert>}
      {imported && (
        <>
          <dl class="facts">
            <dt>Document</dt>
            <dd>
              {imported.title || 'Untitled'} {imported.version && <span class="muted">v{imported.version}</span>} <Badge tone="neutral">OpenAPI {imported.openapi}</Badge>
            </dd>
            <dt>From</dt>
            <dd>{imported.url ? <code>{imported.url}</code> : `an upload (${Math.ceil(imported.documentBytes / 1024)} KB)`}</dd>
          </dl>
          <div class="table-wrap">
            <table class="table" aria-label="Imported actions">
              <thead>
                <tr>
                  <th scope="col">Action</th>
                  <th scope="col">Operation</th>
                  <th scope="col">Option source</th>
                </tr>
              </thead>
              <tbody>
                {imported.operations.map((o) => (
                  <tr key={o.key}>
                    <th scope="row">
                      <code>{o.key}</code>
                      <span class="muted small block">{o.name}</span>
                    </th>
                    <td>
                      <code>
                        {o.method} {o.path}
                      </code>
                    </td>
                    <td>
                      {o.optionSource ? (
                        <span>
                          value <code>{o.optionSource.valuePath || '(item)'}</code>, label <code>{o.optionSource.labelPath || '(item)'}</code>
                        </span>
                      ) : (
                        <span class="muted">—</span>
                      )}
                      {editable && o.method === 'GET' && (o.optionSource || o.detectedOptionSource || o.optionSourceOverridden) && (
                        <button type="button" class="link-button small block" onClick={() => void toggleOptionSource(o)}>
                          {o.optionSource ? 'Do not offer as options' : 'Offer as options again'}
                        </button>
                      )}
                      {editable && o.optionSource && (
                        <button type="button" class="link-button small block" aria-label={`Change fields of ${o.key}`} onClick={() => (editing.value = o.key)}>
                          Change fields
                        </button>
                      )}
                      {editing.value === o.key && o.optionSource && (
                        <ListSpecForm
                          spec={o.optionSource}
                          onCancel={() => (editing.value = null)}
                          onSave={async (spec) => {
                            current.data.value = await openApiApi.setOptionSources(connectorKey, { [o.key]: spec });
                            editing.value = null;
                            toast(`Options of ${o.key} changed`);
                            onChanged();
                          }}
                        />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {imported.operations.length === 0 && <p class="muted">The document has no operations that could be imported.</p>}
          {imported.warnings.length > 0 && (
            <Alert tone="warning" title="Left out">
              <ul>
                {imported.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </Alert>
          )}
        </>
      )}
      {editable && (
        <form onSubmit={submit} noValidate aria-label="Import an OpenAPI document">
          <h3 class="form-section-title">{imported ? 'Replace the document' : 'Import a document'}</h3>
          {error.value && (
            <Alert tone="error" title="Not imported">
              {error.value.message}
              {error.value.pointer && (
                <span class="block small">
                  At <code>{error.value.pointer}</code>
                </span>
              )}
            </Alert>
          )}
          <div class="segmented" role="radiogroup" aria-label="Where the document comes from">
            {(['paste', 'url'] as const).map((m) => (
              <button key={m} type="button" role="radio" aria-checked={mode.value === m} class="segmented-option" onClick={() => (mode.value = m)}>
                {m === 'paste' ? 'Paste or upload' : 'From a URL'}
              </button>
            ))}
          </div>
          <fieldset class="plain-fieldset" disabled={busy.value}>
            <legend class="sr-only">The document</legend>
            {mode.value === 'url' ? (
              <TextField
                label="Document URL"
                name="openapi-url"
                value={url.value}
                onValue={(v) => (url.value = v)}
                placeholder="https://api.example.com/openapi.json"
                hint="Fetched once, now (1 MiB and 10 seconds at most)."
              />
            ) : (
              <>
                <Field label="Document (JSON or YAML)" hint="OpenAPI 3.0 or 3.1, up to 1 MiB and 300 operations; references must point inside the document.">
                  {(aria) => (
                    <textarea
                      {...aria}
                      name="openapi-document"
                      class="textarea mono"
                      rows={8}
                      spellcheck={false}
                      value={text.value}
                      onInput={(e) => (text.value = e.currentTarget.value)}
                    />
                  )}
                </Field>
                <Field label="Or choose a file" optional>
                  {(aria) => (
                    <input
                      {...aria}
                      type="file"
                      name="openapi-file"
                      accept=".json,.yaml,.yml,application/json,application/yaml"
                      onChange={(e) => void readFile(e.currentTarget.files?.[0])}
                    />
                  )}
                </Field>
              </>
            )}
          </fieldset>
          <div class="form-actions">
            <button type="submit" class="btn btn-primary" disabled={busy.value}>
              {busy.value ? 'Importing…' : 'Import'}
            </button>
            {imported && (
              <button type="button" class="btn btn-danger-quiet" onClick={() => (confirmingRemove.value = true)}>
                Remove document
              </button>
            )}
          </div>
        </form>
      )}
      {confirmingRemove.value && (
        <ConfirmDialog
          title="Remove the OpenAPI document?"
          confirmLabel="Remove"
          busy={busy.value}
          error={error.value?.message ?? null}
          onConfirm={() => void remove()}
          onCancel={() => (confirmingRemove.value = false)}
        >
          <p>Its {imported?.operations.length ?? 0} actions disappear from this connector; flows that use them fail until they are changed or the document is imported again.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

/** For a GET the import did not take for a listing: the common shape; the first listing shows whether it fits. */
const GUESSED_LIST: OpenApiListSpec = { itemsPath: '', valuePath: 'id', labelPath: 'name' };

/** Which fields of a listing give each option: dot paths, checked by the server. */
function ListSpecForm({ spec, onSave, onCancel }: { spec: OpenApiListSpec; onSave: (spec: OpenApiListSpec) => Promise<void>; onCancel: () => void }) {
  const itemsPath = useSignal(spec.itemsPath);
  const valuePath = useSignal(spec.valuePath);
  const labelPath = useSignal(spec.labelPath);
  const errors = useSignal<Record<string, string>>({});
  const saving = useSignal(false);
  async function save(event: Event) {
    event.preventDefault();
    saving.value = true;
    errors.value = {};
    try {
      await onSave({
        itemsPath: itemsPath.value.trim(),
        valuePath: valuePath.value.trim(),
        labelPath: labelPath.value.trim(),
        ...(spec.searchParam ? { searchParam: spec.searchParam } : {}),
      });
    } catch (caught) {
      // Paths come back as optionSources.<action>.<field>: keep the field.
      const byField: Record<string, string> = {};
      if (caught instanceof ApiError) for (const [path, message] of Object.entries(caught.fieldErrors)) byField[path.split('.').pop() ?? ''] = message;
      errors.value = Object.keys(byField).length ? byField : { '': messageOf(caught) };
    } finally {
      saving.value = false;
    }
  }
  return (
    <form class="list-spec-form" onSubmit={save} noValidate aria-label="Option fields">
      {errors.value[''] && <Alert tone="error">{errors.value['']}</Alert>}
      <TextField
        label="List at"
        value={itemsPath.value}
        onValue={(v) => (itemsPath.value = v)}
        error={errors.value.itemsPath}
        hint="Dot path in the response; empty for a top-level list."
      />
      <TextField label="Value" value={valuePath.value} onValue={(v) => (valuePath.value = v)} error={errors.value.valuePath} hint="Dot path in each item, e.g. id." />
      <TextField label="Label" value={labelPath.value} onValue={(v) => (labelPath.value = v)} error={errors.value.labelPath} hint="What people see, e.g. name." />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary btn-small" disabled={saving.value}>
          {saving.value ? 'Saving…' : 'Save fields'}
        </button>
        <button type="button" class="btn btn-secondary btn-small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
