import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  optional?: boolean;
  class?: string;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }) => ComponentChildren;
}

/** A labelled control with its hint and error wired up through aria-describedby. */
export function Field({ label, error, hint, optional, class: className, children }: FieldProps) {
  const id = useId();
  const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label for={id}>
        {label}
        {optional && <span class="optional"> (optional)</span>}
      </label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {hint && !error && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

interface InputProps {
  label: string;
  value: string;
  onValue: (value: string) => void;
  type?: 'text' | 'email' | 'password';
  name?: string;
  autoComplete?: string;
  inputMode?: 'text' | 'email' | 'numeric';
  spellcheck?: boolean;
  placeholder?: string;
  maxLength?: number;
  error?: string | undefined;
  hint?: ComponentChildren;
  optional?: boolean;
  class?: string;
  inputRef?: { current: HTMLInputElement | null };
}

export function TextField({ label, error, hint, optional, value, onValue, inputRef, class: className, type = 'text', ...rest }: InputProps) {
  return (
    <Field label={label} error={error} hint={hint} optional={optional} class={className}>
      {/* Preact's input types discriminate on a literal `type`; ours is one of three, all valid here. */}
      {(aria) => <input {...rest} {...aria} type={type as 'text'} ref={inputRef} value={value} onInput={(e) => onValue(e.currentTarget.value)} />}
    </Field>
  );
}
