import { useSignal } from '@preact/signals';
import { useEffect, useId, useRef } from 'preact/hooks';
import { api, ApiError, messageOf, type FlowTemplate, type PromotionPreview } from '../api';
import { activeEnvironment, can, environments } from '../session';
import { Alert, Spinner } from '../ui/alert';
import { useModal } from '../ui/confirm-dialog';
import { Field } from '../ui/field';
import { toast } from '../ui/toast';

/**
 * Promotes the template's latest published version to another environment: pick the target, read
 * the diff and what would stop it, then promote against the version the preview showed (a target
 * that moved in between is refused, and the preview is read again).
 */
export function PromoteDialog({ template, onClose }: { template: FlowTemplate; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const current = activeEnvironment.value;
  const all = environments.value;
  const targets = all.filter((e) => e.id !== current?.id);
  // The next environment along (development → production), else the first other one.
  const next = all[all.findIndex((e) => e.id === current?.id) + 1] ?? targets[0];
  const target = useSignal(next?.id ?? '');
  const preview = useSignal<PromotionPreview | null>(null);
  const loadError = useSignal<string | null>(null);
  const outdated = useSignal<string | null>(null);
  const busy = useSignal(false);
  const error = useSignal<string | null>(null);

  useModal(ref);

  async function load() {
    const wanted = target.value;
    loadError.value = null;
    try {
      const loaded = await api.promotion(template.key, wanted);
      if (target.value === wanted) preview.value = loaded;
    } catch (caught) {
      if (target.value === wanted) loadError.value = messageOf(caught);
    }
  }

  useEffect(() => {
    preview.value = null;
    error.value = null;
    outdated.value = null;
    if (target.value) void load();
  }, [target.value]);

  const shown = preview.value;
  const targetEnv = all.find((e) => e.id === target.value);
  const needsAdmin = Boolean(targetEnv?.protected) && !can('admin');
  const blocked = !shown || shown.upToDate || shown.problems.length > 0 || needsAdmin;

  async function promote() {
    if (!shown || blocked || busy.value) return;
    busy.value = true;
    error.value = null;
    outdated.value = null;
    try {
      const done = await api.promote(template.key, { environmentId: shown.to.environmentId, version: shown.from.version, expectedVersion: shown.to.version });
      toast(done.changed ? `Promoted to ${done.environment} as version ${done.version}` : `${done.environment} already had this version: nothing promoted`);
      onClose();
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'promotion_outdated') {
        const now = typeof caught.details.version === 'number' ? ` (it has v${caught.details.version} now)` : '';
        outdated.value = `Not promoted: ${shown.to.environment} changed since this preview${now}. The changes below are read again: review them, then promote.`;
        await load();
      } else {
        error.value = messageOf(caught);
      }
    } finally {
      busy.value = false;
    }
  }

  return (
    <dialog
      ref={ref}
      class="dialog dialog-wide"
      aria-labelledby={`${id}-title`}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy.value) onClose();
      }}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          void promote();
        }}
      >
        <h2 id={`${id}-title`} class="dialog-title">
          Promote {template.name}
        </h2>
        <div class="dialog-body promote-body">
          <p>Copies the latest published version to another environment, where it becomes the template’s next version.</p>
          <Field label="To environment" class="promote-target">
            {(aria) => (
              <select {...aria} value={target.value} disabled={busy.value} onChange={(e) => (target.value = e.currentTarget.value)}>
                {targets.map((e) => (
                  <option key={e.id} value={e.id}>
                    {e.name}
                    {e.protected ? ' (protected)' : ''}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {outdated.value && <Alert tone="warning">{outdated.value}</Alert>}
          {loadError.value && (
            <Alert tone="error" title="Could not load the changes">
              {loadError.value}
            </Alert>
          )}
          {!shown && !loadError.value && <Spinner label="Loading the changes…" />}
          {shown && (
            <>
              <p class="promote-summary">
                <strong>
                  v{shown.from.version} in {shown.from.environment}
                </strong>{' '}
                → <strong>{shown.to.environment}</strong>, {shown.to.version > 0 ? `which has v${shown.to.version} now` : 'which does not have this flow yet'}
              </p>
              {shown.upToDate ? (
                <Alert tone="success" title="Up to date">
                  {shown.to.environment} already runs this definition: promoting would change nothing.
                </Alert>
              ) : (
                <Diff text={shown.diff} label={`Changes to ${template.key} in ${shown.to.environment}`} />
              )}
              {shown.problems.length > 0 && (
                <Alert tone="warning" title={`${shown.to.environment} would refuse this version`}>
                  <ul class="promote-list">
                    {shown.problems.map((p, i) => (
                      <li key={i}>
                        <code>{p.path.replace(/^definition\.?/, '') || '(document)'}</code> {p.message}
                      </li>
                    ))}
                  </ul>
                </Alert>
              )}
              {shown.connectorsNotEnabled.length > 0 && (
                <Alert tone="warning" title={`Not enabled in ${shown.to.environment}: ${shown.connectorsNotEnabled.join(', ')}`}>
                  The flow uses {shown.connectorsNotEnabled.length === 1 ? 'this connector' : 'these connectors'}; end users there cannot connect until an admin enables{' '}
                  {shown.connectorsNotEnabled.length === 1 ? 'it' : 'them'} in {shown.to.environment}.
                </Alert>
              )}
              {needsAdmin && <Alert tone="info">Promoting to {shown.to.environment} (protected) needs the admin role. Ask an admin or owner to promote it.</Alert>}
            </>
          )}
        </div>
        {error.value && (
          <p class="field-error" role="alert">
            {error.value}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn btn-secondary" onClick={onClose} disabled={busy.value}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={blocked || busy.value}>
            {busy.value ? 'Promoting…' : `Promote to ${targetEnv?.name ?? 'environment'}`}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** A unified diff, its added and removed lines coloured (the +/- stay, for readers that see no colour). */
function Diff({ text, label }: { text: string; label: string }) {
  // The patch's "=====" banner says nothing here; a trailing newline is no line.
  const lines = text.split('\n').filter((line, i, all) => !/^=+$/.test(line) && !(i === all.length - 1 && line === ''));
  return (
    <div class="diff" role="region" aria-label={label} tabIndex={0}>
      <pre>
        {lines.map((line, i) => (
          <span key={i} class={lineClass(line)}>
            {line}
            {'\n'}
          </span>
        ))}
      </pre>
    </div>
  );
}

function lineClass(line: string): string | undefined {
  if (line.startsWith('+++') || line.startsWith('---')) return 'diff-file';
  if (line.startsWith('@@')) return 'diff-hunk';
  if (line.startsWith('+')) return 'diff-add';
  if (line.startsWith('-')) return 'diff-del';
  return undefined;
}
