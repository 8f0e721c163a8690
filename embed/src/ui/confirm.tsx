import type { ComponentChildren } from 'preact';
import { useId, useLayoutEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';

/** A modal confirmation on the native <dialog> (its own focus trap; Escape cancels). Render it only while open. */
export function Confirm(props: { title: string; children: ComponentChildren; confirm: string; busy?: boolean; error?: string | null; onConfirm(): void; onCancel(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useLayoutEffect(() => {
    const dialog = ref.current!;
    const root = dialog.getRootNode() as ShadowRoot | Document;
    const previous = root.activeElement as HTMLElement | null;
    dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      previous?.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby={`${id}t`}
      aria-describedby={`${id}d`}
      onCancel={(e) => {
        e.preventDefault();
        e.stopPropagation();
        if (!props.busy) props.onCancel();
      }}
      onKeyDown={(e) => e.key === 'Escape' && e.stopPropagation()}
    >
      <h2 id={`${id}t`}>{props.title}</h2>
      <p id={`${id}d`}>{props.children}</p>
      {props.error && (
        <p class="alert bad" role="alert">
          {props.error}
        </p>
      )}
      <div class="actions">
        <button type="button" class="btn secondary" onClick={props.onCancel} disabled={props.busy} autoFocus>
          {t('cancel')}
        </button>
        <button type="button" class="btn danger-solid" onClick={props.onConfirm} disabled={props.busy}>
          {props.busy && <span class="spinner" />}
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}
