import { useSignal } from '@preact/signals';
import { useEffect, useId, useRef } from 'preact/hooks';

/** A read-only value with a Copy button: for secrets and links shown once. */
export function CopyBox({ label, value, autoFocus }: { label: string; value: string; autoFocus?: boolean }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const copied = useSignal<'idle' | 'copied' | 'failed'>('idle');

  useEffect(() => {
    if (!autoFocus) return;
    input.current?.focus();
    input.current?.select();
  }, [autoFocus]);

  useEffect(() => {
    if (copied.value === 'idle') return;
    const timer = setTimeout(() => (copied.value = 'idle'), 2500);
    return () => clearTimeout(timer);
  }, [copied.value]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      copied.value = 'copied';
    } catch {
      // No clipboard permission: select the text so Ctrl/⌘+C works.
      input.current?.select();
      copied.value = 'failed';
    }
  }

  return (
    <div class="copy-box">
      <label for={id}>{label}</label>
      <div class="copy-row">
        <input id={id} ref={input} class="mono" type="text" readOnly value={value} spellcheck={false} autoComplete="off" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="btn btn-secondary" onClick={copy}>
          {copied.value === 'copied' ? 'Copied' : 'Copy'}
        </button>
      </div>
      <p class="sr-only" aria-live="polite">
        {copied.value === 'copied' ? 'Copied to the clipboard' : copied.value === 'failed' ? 'Selected: press Ctrl+C to copy' : ''}
      </p>
    </div>
  );
}
