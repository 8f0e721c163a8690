import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';

const message = signal<{ text: string; id: number } | null>(null);
let counter = 0;

/** A short confirmation ("Role changed"), announced politely and gone after a few seconds. */
export function toast(text: string): void {
  message.value = { text, id: ++counter };
}

export function Toaster() {
  const current = message.value;
  useEffect(() => {
    if (!current) return;
    const timer = setTimeout(() => {
      if (message.value?.id === current.id) message.value = null;
    }, 4000);
    return () => clearTimeout(timer);
  }, [current?.id]);
  return (
    <div class="toaster" role="status" aria-live="polite">
      {current && (
        <div class="toast" key={current.id}>
          <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
            <path d="M4.5 10.5l3.5 3.5 7.5-8" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
          </svg>
          {current.text}
        </div>
      )}
    </div>
  );
}
