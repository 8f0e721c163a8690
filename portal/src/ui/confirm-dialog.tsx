import { type Signal, useSignal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useId, useLayoutEffect, useRef } from 'preact/hooks';
import { messageOf } from '../api';

interface ConfirmDialogProps {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * Shows a native <dialog> as modal while the component is mounted, and puts focus back where it was
 * when it goes. A layout effect: modal in the same frame it appears, so no keystroke slips past it.
 */
export function useModal(ref: { current: HTMLDialogElement | null }): void {
  useLayoutEffect(() => {
    const dialog = ref.current;
    const previous = document.activeElement as HTMLElement | null;
    dialog?.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      if (previous?.isConnected) previous.focus();
    };
  }, []);
}

/**
 * A modal confirmation on the native <dialog>: focus is trapped and Escape cancels. Render it only
 * while it is open; focus goes back to where it was when it closes.
 */
export function ConfirmDialog({ title, children, confirmLabel, busy, error, onConfirm, onCancel }: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();

  useModal(ref);

  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          if (!busy) onConfirm();
        }}
      >
        <h2 id={`${id}-title`} class="dialog-title">
          {title}
        </h2>
        <div id={`${id}-body`} class="dialog-body">
          {children}
        </div>
        {error && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="btn btn-secondary" onClick={onCancel} disabled={busy} autoFocus>
            Cancel
          </button>
          <button type="submit" class="btn btn-danger" disabled={busy}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

interface FormActionsProps {
  /** The resource edited (its name titles the confirmation); null when creating one. */
  editing: { name: string } | null;
  submitLabel: string;
  /** The confirmation's button, e.g. "Delete provider". */
  deleteLabel: string;
  /** The form's busy state: set while the deletion runs. */
  busy: Signal<boolean>;
  /** Buttons before Delete, on the left. */
  left?: ComponentChildren;
  /** Deletes the resource (and goes where the form leads after it); its error is shown in the confirmation. */
  onDelete: () => Promise<void>;
  /** What deleting takes with it, said in the confirmation. */
  consequences: ComponentChildren;
}

/** A resource form's actions: Delete (with its confirmation) and `left` on the left, the submit button on the right. */
export function FormActions({ editing, submitLabel, deleteLabel, busy, left, onDelete, consequences }: FormActionsProps) {
  const confirming = useSignal(false);
  const error = useSignal<string | null>(null);
  async function remove() {
    busy.value = true;
    try {
      await onDelete();
    } catch (caught) {
      error.value = messageOf(caught);
    } finally {
      busy.value = false;
    }
  }
  return (
    <>
      <div class="form-actions form-actions-split">
        <div class="form-actions-left">
          {left}
          {editing && (
            <button type="button" class="btn btn-danger-quiet" onClick={() => (confirming.value = true)}>
              Delete
            </button>
          )}
        </div>
        <button type="submit" class="btn btn-primary" disabled={busy.value}>
          {submitLabel}
        </button>
      </div>
      {confirming.value && editing && (
        <ConfirmDialog
          title={`Delete ${editing.name}?`}
          confirmLabel={deleteLabel}
          busy={busy.value}
          error={error.value}
          onConfirm={remove}
          onCancel={() => {
            confirming.value = false;
            error.value = null;
          }}
        >
          {consequences}
        </ConfirmDialog>
      )}
    </>
  );
}
