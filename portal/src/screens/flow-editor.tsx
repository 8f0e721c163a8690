import { useComputed, useSignal } from '@preact/signals';
import { type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { useEffect, useRef } from 'preact/hooks';
import { api, ApiError, messageOf, type FlowTemplate, type PathError, type TemplateInstance } from '../api';
import { Link } from '../router';
import { activeEnvironment, can, environments } from '../session';
import { Alert, Badge, Spinner } from '../ui/alert';
import { Field } from '../ui/field';
import { LoadMore } from '../ui/load-more';
import { Breadcrumb, EmptyState, PageHeader } from '../ui/page';
import { Loaded, useResource } from '../ui/resource';
import { Time } from '../ui/time';
import { toast } from '../ui/toast';
import { TriggerHealthView } from '../ui/trigger-health';
import { FlushCard, Table } from '../ui/table';
import { locate, Outline } from './flow-outline';
import { PromoteDialog } from './flow-promote';
import { Rollouts } from './flow-rollouts';
import { hasUnpublishedChanges } from './flows';

const VALIDATE_DELAY_MS = 450;

interface Problem {
  path: string;
  message: string;
  offset: number;
  length: number;
  line: number;
  column: number;
}

/** 1-based line and column of an offset. */
function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export function FlowEditorScreen({ flowKey }: { flowKey: string }) {
  const template = useResource(() => api.template(flowKey), [flowKey]);
  /** Bumped when a rollout moves end users, so the versions list is read again. */
  const moved = useSignal(0);
  const promoting = useSignal(false);
  const found = template.data.value;
  const canPromote = Boolean(found && found.latestVersion > 0 && can('developer') && environments.value.length > 1);
  return (
    <>
      <Breadcrumb to="flows" section="Flows">
        {found?.name ?? flowKey}
      </Breadcrumb>
      <PageHeader
        title={found?.name ?? 'Flow'}
        description={
          found ? (
            <>
              <code>{found.key}</code>
              {found.latestVersion > 0 ? ` · version ${found.latestVersion} is live` : ' · not published yet'}
            </>
          ) : (
            ''
          )
        }
        actions={
          found && (
            <>
              {hasUnpublishedChanges(found) ? <Badge tone="warning">Unpublished changes</Badge> : <Badge tone="success">Published</Badge>}
              {canPromote && (
                <button type="button" class="btn btn-secondary" onClick={() => (promoting.value = true)}>
                  Promote…
                </button>
              )}
            </>
          )
        }
      />
      {promoting.value && found && <PromoteDialog template={found} onClose={() => (promoting.value = false)} />}
      {template.status.value === 404 ? (
        <EmptyState title={`There is no flow “${flowKey}”.`}>
          <Link to="flows">See every flow</Link>
        </EmptyState>
      ) : (
        <Loaded resource={template} what="the flow">
          {(t) => (
            <>
              <Editor template={t} onChanged={(next) => (template.data.value = next)} reload={template.reload} />
              {t.latestVersion > 0 && <Rollouts template={t} onChanged={(next) => (template.data.value = next)} onMoved={() => moved.value++} />}
              <Versions template={t} moved={moved.value} />
            </>
          )}
        </Loaded>
      )}
    </>
  );
}

function Editor({ template, onChanged, reload }: { template: FlowTemplate; onChanged: (t: FlowTemplate) => void; reload: () => Promise<void> }) {
  // Names connectors and their triggers in the outline ("When new issue in GitHub").
  const catalogue = useResource(() => api.connectors(), []);
  // A protected environment takes flow templates by promotion only (the server answers 409 environment_protected).
  const env = activeEnvironment.value;
  const locked = Boolean(env?.protected);
  const editable = can('developer') && !locked;
  const text = useSignal(pretty(template.draft));
  const saved = useSignal(text.value);
  const serverErrors = useSignal<{ forText: string; errors: PathError[] } | null>(null);
  const validating = useSignal(false);
  const busy = useSignal<'saving' | 'publishing' | null>(null);
  const actionError = useSignal<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);

  const parsed = useComputed(() => {
    const errors: ParseError[] = [];
    const root = parseTree(text.value, errors, { allowTrailingComma: false, disallowComments: true });
    let value: unknown = undefined;
    if (errors.length === 0) {
      try {
        value = JSON.parse(text.value);
      } catch {
        // jsonc-parser and JSON.parse agree on strict JSON; if not, the document is reported as not an object.
      }
    }
    return { root, errors, value };
  });

  const problems = useComputed<Problem[]>(() => {
    const source = text.value;
    const { root, errors, value } = parsed.value;
    if (errors.length) {
      return errors
        .slice(0, 20)
        .map((e) => ({ path: '', message: `JSON syntax: ${printParseErrorCode(e.error)}`, offset: e.offset, length: Math.max(1, e.length), ...position(source, e.offset) }));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return [{ path: '', message: 'The definition must be a JSON object', offset: 0, length: source.length, line: 1, column: 1 }];
    }
    const fromServer = serverErrors.value;
    if (!fromServer || fromServer.forText !== source) return [];
    return fromServer.errors.map((e) => {
      const spot = locate(root, e.path) ?? { offset: 0, length: 0 };
      return { ...e, ...spot, ...position(source, spot.offset) };
    });
  });

  const errorLines = useComputed(() => new Set(problems.value.map((p) => p.line)));
  const dirty = text.value !== saved.value;
  const checkedNow = serverErrors.value?.forText === text.value && parsed.value.errors.length === 0;

  // Validate on the server a moment after typing stops (the schema and the semantic checks live there).
  useEffect(() => {
    const source = text.value;
    const { errors, value } = parsed.value;
    if (errors.length || typeof value !== 'object' || value === null || Array.isArray(value)) return;
    if (serverErrors.value?.forText === source) return;
    const timer = setTimeout(async () => {
      validating.value = true;
      try {
        const result = await api.validateTemplate(template.key, value as Record<string, unknown>);
        if (text.value === source) serverErrors.value = { forText: source, errors: result.errors };
      } catch (caught) {
        if (caught instanceof ApiError && caught.status === 400) {
          serverErrors.value = { forText: source, errors: Object.entries(caught.fieldErrors).map(([path, message]) => ({ path, message })) };
        } else if (text.value === source) {
          actionError.value = `Could not check the definition: ${messageOf(caught)}`;
        }
      } finally {
        validating.value = false;
      }
    }, VALIDATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text.value]);

  // Closing or reloading the tab with unsaved edits asks first (the browser's own prompt).
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [dirty]);

  function select(offset: number, length: number) {
    const area = textarea.current;
    if (!area) return;
    area.focus();
    area.setSelectionRange(offset, offset + length);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
    const { line } = position(text.value, offset);
    area.scrollTop = Math.max(0, (line - 4) * lineHeight);
    syncGutter();
  }

  function showPath(path: string) {
    const spot = locate(parsed.value.root, path);
    if (spot) select(spot.offset, spot.length);
  }

  function syncGutter() {
    if (gutter.current && textarea.current) gutter.current.scrollTop = textarea.current.scrollTop;
  }

  async function saveDraft(): Promise<boolean> {
    const { errors, value } = parsed.value;
    if (errors.length || typeof value !== 'object' || value === null || Array.isArray(value)) {
      actionError.value = 'Fix the JSON syntax errors first: a draft must be a JSON object.';
      const first = problems.value[0];
      if (first) select(first.offset, first.length);
      return false;
    }
    const source = text.value;
    const next = await api.saveDraft(template.key, value as Record<string, unknown>);
    saved.value = source;
    onChanged({ ...template, ...next, versions: template.versions });
    return true;
  }

  async function onSave() {
    if (busy.value) return;
    busy.value = 'saving';
    actionError.value = null;
    try {
      if (await saveDraft()) toast('Draft saved');
    } catch (caught) {
      report(caught);
    } finally {
      busy.value = null;
    }
  }

  async function onPublish() {
    if (busy.value) return;
    busy.value = 'publishing';
    actionError.value = null;
    try {
      if (dirty && !(await saveDraft())) return;
      const published = await api.publishTemplate(template.key);
      toast(published.changed ? `Published version ${published.version}` : `Nothing changed since version ${published.version}: nothing published`);
      await reload();
    } catch (caught) {
      report(caught);
    } finally {
      busy.value = null;
    }
  }

  function report(caught: unknown) {
    if (caught instanceof ApiError && Array.isArray(caught.details.errors) && caught.details.errors.length) {
      // The publish check found problems: list them at their paths, like the live validation.
      serverErrors.value = { forText: text.value, errors: caught.details.errors as PathError[] };
      actionError.value = `Not published: ${caught.details.errors.length} problem${caught.details.errors.length === 1 ? '' : 's'} to fix (listed below the editor).`;
    } else actionError.value = messageOf(caught);
  }

  const lineCount = text.value.split('\n').length;
  const list = problems.value;
  return (
    <div class="editor-layout">
      <section class="card card-flush editor-card" aria-labelledby="definition-title">
        <div class="card-header">
          <h2 id="definition-title" class="card-title">
            Definition
          </h2>
          <div class="editor-status" aria-live="polite">
            {parsed.value.errors.length > 0 ? (
              <Badge tone="danger">JSON syntax error</Badge>
            ) : validating.value || !checkedNow ? (
              <span class="muted small">Checking…</span>
            ) : list.length > 0 ? (
              <Badge tone="danger">
                {list.length} problem{list.length === 1 ? '' : 's'}
              </Badge>
            ) : (
              <Badge tone="success">Valid</Badge>
            )}
            {dirty && <Badge tone="warning">Unsaved</Badge>}
          </div>
        </div>
        {locked && (
          <div class="card-pad" id="protected-note">
            <Alert tone="warning" title={`${env?.name ?? 'This environment'} is protected: this definition is read-only here`}>
              Flow templates reach {env?.name ?? 'it'} by promotion. Edit and publish the flow in another environment (such as development), then use Promote… there to bring it
              here, with a diff to review first.
            </Alert>
          </div>
        )}
        {actionError.value && (
          <div class="card-pad">
            <Alert tone="error" onDismiss={() => (actionError.value = null)}>
              {actionError.value}
            </Alert>
          </div>
        )}
        <Field label="Flow definition (JSON)" class="code-field" hint="Ctrl+S saves the draft. Each problem below links to its place in the document.">
          {(aria) => (
            <div class="code-editor">
              <div class="code-gutter" ref={gutter} aria-hidden="true">
                {Array.from({ length: lineCount }, (_, i) => (
                  <span key={i} class={errorLines.value.has(i + 1) ? 'gutter-error' : undefined}>
                    {i + 1}
                  </span>
                ))}
              </div>
              <textarea
                {...aria}
                ref={textarea}
                name="definition"
                class="code-input"
                spellcheck={false}
                autoComplete="off"
                autoCapitalize="off"
                wrap="off"
                readOnly={!editable}
                value={text.value}
                onInput={(e) => (text.value = e.currentTarget.value)}
                onScroll={syncGutter}
                onKeyDown={(e) => {
                  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
                    e.preventDefault();
                    if (editable) void onSave();
                  }
                }}
              />
            </div>
          )}
        </Field>
        <div class="problems" aria-labelledby="problems-title">
          <h3 id="problems-title" class="sr-only">
            Problems
          </h3>
          {list.length === 0 ? (
            checkedNow && !locked ? (
              <p class="problems-ok">No problems: this definition can be published.</p>
            ) : null
          ) : (
            <ul class="problem-list">
              {list.map((p, i) => (
                <li key={`${p.path}-${i}`}>
                  <button type="button" class="problem" onClick={() => select(p.offset, p.length)}>
                    <span class="problem-where">
                      {p.path ? <code>{p.path.replace(/^definition\.?/, '') || '(document)'}</code> : <span>Line {p.line}</span>}
                      <span class="muted small">
                        {' '}
                        line {p.line}, column {p.column}
                      </span>
                    </span>
                    <span class="problem-message">{p.message}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        {can('developer') && (
          <div class="card-footer card-footer-actions">
            <button
              type="button"
              class="btn btn-secondary"
              disabled={locked || busy.value !== null || !dirty}
              aria-describedby={locked ? 'protected-note' : undefined}
              onClick={onSave}
            >
              {busy.value === 'saving' ? 'Saving…' : 'Save draft'}
            </button>
            <button
              type="button"
              class="btn btn-primary"
              disabled={locked || busy.value !== null || (!dirty && !hasUnpublishedChanges(template))}
              aria-describedby={locked ? 'protected-note' : undefined}
              onClick={onPublish}
            >
              {busy.value === 'publishing' ? 'Publishing…' : `Publish version ${template.latestVersion + 1}`}
            </button>
          </div>
        )}
      </section>
      <aside class="card outline-card" aria-labelledby="outline-title">
        <h2 id="outline-title" class="card-title">
          Outline
        </h2>
        {parsed.value.errors.length > 0 ? (
          <p class="muted small">Fix the JSON syntax to see the outline.</p>
        ) : (
          <Outline definition={parsed.value.value} onPick={showPath} catalogue={catalogue.data.value?.data} />
        )}
      </aside>
    </div>
  );
}

/** Polls and provider webhooks have a health worth a column: the trigger names a connector. */
const hasConnectorTrigger = (template: FlowTemplate): boolean =>
  template.versions.some((v) => {
    const trigger = v.definition.trigger as { type?: string; connector?: string } | undefined;
    return trigger?.type === 'poll' || (trigger?.type === 'webhook' && Boolean(trigger.connector));
  });

function Versions({ template, moved }: { template: FlowTemplate; moved: number }) {
  const version = useSignal<number | null>(null);
  const failingOnly = useSignal(false);
  const withTrigger = hasConnectorTrigger(template);
  const rows = useSignal<TemplateInstance[] | null>(null);
  const cursor = useSignal<string | null>(null);
  const byVersion = useSignal<{ version: number; enabled: number; disabled: number }[]>([]);
  const loading = useSignal(false);
  const error = useSignal<string | null>(null);

  async function load(reset: boolean) {
    loading.value = true;
    error.value = null;
    try {
      const page = await api.templateInstances(template.key, {
        cursor: reset ? null : cursor.value,
        version: version.value ?? undefined,
        triggerHealth: failingOnly.value ? 'failing' : undefined,
      });
      rows.value = reset ? page.data : [...(rows.value ?? []), ...page.data];
      cursor.value = page.nextCursor;
      if (version.value === null) byVersion.value = page.byVersion;
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      loading.value = false;
    }
  }

  useEffect(() => {
    void load(true);
  }, [template.latestVersion, version.value, failingOnly.value, moved]);

  const usage = (v: number) => byVersion.value.find((u) => u.version === v);
  return (
    <FlushCard titleId="versions-title" title="Versions and who runs them">
      {template.versions.length === 0 ? (
        <EmptyState title="Not published yet">Publish the draft to make this flow available to your customers in the widget.</EmptyState>
      ) : (
        <div class="versions">
          <ol class="version-list">
            {template.versions.map((v) => {
              const u = usage(v.version);
              return (
                <li key={v.version} class="version-item">
                  <span class="version-number">v{v.version}</span>
                  <span class="version-text">
                    <span>
                      Published <Time iso={v.publishedAt} relative />
                      {v.version === template.latestVersion && (
                        <>
                          {' '}
                          <Badge tone="accent">Latest</Badge>
                        </>
                      )}
                    </span>
                    <span class="muted small">{u ? `${u.enabled} end user${u.enabled === 1 ? '' : 's'} on, ${u.disabled} off` : 'No end users'}</span>
                  </span>
                </li>
              );
            })}
          </ol>
          <div class="versions-users">
            <div class="versions-filter">
              <Field label="Version" class="field-inline">
                {(aria) => (
                  <select
                    {...aria}
                    class="select-small"
                    value={version.value ?? ''}
                    onChange={(e) => (version.value = e.currentTarget.value ? Number(e.currentTarget.value) : null)}
                  >
                    <option value="">All versions</option>
                    {template.versions.map((v) => (
                      <option key={v.version} value={v.version}>
                        v{v.version}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              {withTrigger && (
                <label class="check-inline">
                  <input type="checkbox" checked={failingOnly.value} onChange={(e) => (failingOnly.value = e.currentTarget.checked)} />
                  Failing triggers
                </label>
              )}
            </div>
            {error.value && (
              <div class="card-pad">
                <Alert tone="error">{error.value}</Alert>
              </div>
            )}
            {rows.value === null && !error.value && (
              <div class="card-pad card-pad-bottom">
                <Spinner label="Loading end users…" />
              </div>
            )}
            {rows.value && rows.value.length === 0 && failingOnly.value && (
              <EmptyState title="No failing triggers">Every end user's trigger{version.value !== null ? ` on v${version.value}` : ''} is working.</EmptyState>
            )}
            {rows.value && rows.value.length === 0 && !failingOnly.value && (
              <EmptyState title="No end users run this flow yet">They switch it on in the widget, or your backend does it for them.</EmptyState>
            )}
            {rows.value && rows.value.length > 0 && (
              <>
                <Table columns={['End user', 'Version', 'State', ...(withTrigger ? ['Trigger'] : []), 'Changed']}>
                  {rows.value.map((r) => (
                    <tr key={r.id}>
                      <th scope="row">
                        <Link to={`end-users/${encodeURIComponent(r.endUserId)}`} class="cell-link">
                          {r.endUserName || r.endUserId}
                        </Link>
                        {r.endUserName && <span class="muted small block">{r.endUserId}</span>}
                      </th>
                      <td>
                        v{r.version}
                        {r.version < template.latestVersion && <span class="muted small"> (behind)</span>}
                      </td>
                      <td>{r.status === 'paused' ? <Badge tone="warning">Paused</Badge> : r.enabled ? <Badge tone="success">On</Badge> : <Badge tone="neutral">Off</Badge>}</td>
                      {withTrigger && <td>{r.enabled && r.triggerHealth ? <TriggerHealthView health={r.triggerHealth} /> : <span class="muted">—</span>}</td>}
                      <td>
                        <Time iso={r.updatedAt} relative />
                      </td>
                    </tr>
                  ))}
                </Table>
                <LoadMore hasMore={cursor.value !== null} loading={loading.value} onMore={() => load(false)} />
              </>
            )}
          </div>
        </div>
      )}
    </FlushCard>
  );
}
