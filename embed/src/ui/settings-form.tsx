import { useSignal } from '@preact/signals';
import { useId } from 'preact/hooks';
import { SwitchboardError } from '../api';
import { t } from '../i18n';
import type { Flow, InputSpec } from '../types';
import type { Widget } from '../widget';
import { OptionPicker } from './option-picker';

type Values = Record<string, unknown>;

/** The form for a flow's inputs: text, number, boolean, select, multi-select, dynamic options; checked here and by the server. */
export function SettingsForm({ widget, flow, enabling, onDone }: { widget: Widget; flow: Flow; enabling: boolean; onDone(): void }) {
  const id = useId();
  const values = useSignal<Values>(initialValues(flow));
  const errors = useSignal<Record<string, string>>({});
  const failure = useSignal<string | null>(null);
  const busy = useSignal(false);
  const saved = useSignal(false);
  const entries = Object.entries(flow.inputs);

  const set = (name: string, value: unknown) => {
    values.value = { ...values.value, [name]: value };
    saved.value = false;
    if (errors.value[name]) errors.value = { ...errors.value, [name]: '' };
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    failure.value = null;
    saved.value = false;
    const problems = validate(flow.inputs, values.value);
    errors.value = problems;
    if (Object.keys(problems).length > 0) {
      failure.value = t('fixErrors');
      focusFirstInvalid(event.currentTarget as HTMLFormElement);
      return;
    }
    busy.value = true;
    try {
      const settings = clean(flow.inputs, values.value);
      if (enabling) await widget.enableFlow(flow.key, { settings });
      else await widget.updateFlowSettings(flow.key, settings);
      saved.value = !enabling;
      onDone();
    } catch (error) {
      const e = error as SwitchboardError;
      const byField: Record<string, string> = {};
      for (const [path, message] of Object.entries(e instanceof SwitchboardError ? e.fieldErrors : {})) {
        const name = path.replace(/^settings\./, '').split('.')[0]!;
        if (name in flow.inputs) byField[name] = `${flow.inputs[name]!.title} ${message}`;
      }
      errors.value = byField;
      failure.value = Object.keys(byField).length > 0 ? t('fixErrors') : e.message;
    } finally {
      busy.value = false;
    }
  };

  return (
    <form class="form" onSubmit={submit} noValidate aria-describedby={failure.value ? `${id}f` : undefined}>
      {entries.map(([name, spec]) => (
        <Field
          key={name}
          widget={widget}
          flow={flow}
          id={`${id}${name}`}
          name={name}
          spec={spec}
          value={values.value[name]}
          error={errors.value[name]}
          onChange={(v) => set(name, v)}
        />
      ))}
      {failure.value && (
        <p id={`${id}f`} class="alert bad" role="alert">
          {failure.value}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="btn primary" disabled={busy.value}>
          {busy.value && <span class="spinner" />}
          {busy.value ? t('saving') : enabling ? t('enable') : t('save')}
        </button>
        <span class="status-text" role="status">
          {saved.value ? t('saved') : ''}
        </span>
      </div>
    </form>
  );
}

function Field(props: { widget: Widget; flow: Flow; id: string; name: string; spec: InputSpec; value: unknown; error?: string; onChange(v: unknown): void }) {
  const { id, spec, value, error, onChange } = props;
  const helpId = spec.description ? `${id}h` : undefined;
  const errorId = error ? `${id}e` : undefined;
  const describedBy = [helpId, errorId].filter(Boolean).join(' ') || undefined;
  const invalid = error ? true : undefined;
  const required = spec.required && spec.default === undefined;
  const label = (
    <>
      {spec.title}
      {!required && <span class="opt"> ({t('optional')})</span>}
    </>
  );
  const notes = (
    <>
      {spec.description && (
        <span id={helpId} class="help">
          {spec.description}
        </span>
      )}
      {error && (
        <span id={errorId} class="error">
          {error}
        </span>
      )}
    </>
  );

  if (spec.type === 'boolean') {
    return (
      <div class="field">
        <label class="check">
          <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.currentTarget.checked)} aria-describedby={describedBy} />
          <span class="label">{spec.title}</span>
        </label>
        {notes}
      </div>
    );
  }

  if (spec.type === 'array' && spec.enum) {
    const chosen = Array.isArray(value) ? (value as unknown[]) : [];
    return (
      <fieldset class="field" aria-describedby={describedBy}>
        <legend class="label">{label}</legend>
        <div class="checks">
          {spec.enum.map((option) => (
            <label key={String(option)} class="check">
              <input
                type="checkbox"
                checked={chosen.includes(option)}
                onChange={(e) => onChange(e.currentTarget.checked ? [...chosen, option] : chosen.filter((c) => c !== option))}
              />
              {String(option)}
            </label>
          ))}
        </div>
        {notes}
      </fieldset>
    );
  }

  let control;
  if (spec.options) {
    const binding = spec.options.connector;
    control = (
      <OptionPicker
        widget={props.widget}
        id={id}
        connector={binding.split(':')[0]!}
        source={spec.options.source}
        connectionId={props.flow.instance?.connections?.[binding]}
        multiple={spec.type === 'array'}
        value={value as string | string[] | undefined}
        onChange={onChange}
        describedBy={describedBy}
        invalid={invalid}
        required={required}
      />
    );
  } else if (spec.enum) {
    const numeric = spec.type !== 'string';
    control = (
      <select
        id={id}
        class="input"
        value={value === undefined ? '' : String(value)}
        onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : numeric ? Number(e.currentTarget.value) : e.currentTarget.value)}
        aria-describedby={describedBy}
        aria-invalid={invalid}
        aria-required={required}
      >
        <option value="">{t('choose')}</option>
        {spec.enum.map((option) => (
          <option key={String(option)} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </select>
    );
  } else {
    const numeric = spec.type === 'number' || spec.type === 'integer';
    const typed = { type: numeric ? 'number' : 'text' } as { type: 'number' };
    control = (
      <input
        id={id}
        class="input"
        {...typed}
        inputMode={numeric ? (spec.type === 'integer' ? 'numeric' : 'decimal') : undefined}
        step={spec.type === 'integer' ? 1 : numeric ? 'any' : undefined}
        min={spec.minimum}
        max={spec.maximum}
        maxLength={spec.maxLength}
        value={value === undefined || value === null ? '' : String(value)}
        onInput={(e) => onChange(e.currentTarget.value)}
        aria-describedby={describedBy}
        aria-invalid={invalid}
        aria-required={required}
        autoComplete="off"
      />
    );
  }
  return (
    <div class="field">
      <label class="label" for={id}>
        {label}
      </label>
      {control}
      {notes}
    </div>
  );
}

function initialValues(flow: Flow): Values {
  const saved = flow.instance?.settings ?? {};
  const out: Values = {};
  for (const [name, spec] of Object.entries(flow.inputs)) out[name] = saved[name] ?? spec.default;
  return out;
}

const empty = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** Problems by input name, in the end user's words. */
export function validate(inputs: Record<string, InputSpec>, values: Values): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const [name, spec] of Object.entries(inputs)) {
    const v = values[name];
    const field = spec.title;
    if (empty(v)) {
      if (spec.required && spec.default === undefined) problems[name] = t('fieldRequired', { field });
      continue;
    }
    if (spec.type === 'number' || spec.type === 'integer') {
      const n = Number(v);
      if (!Number.isFinite(n)) problems[name] = t('fieldNumber', { field });
      else if (spec.type === 'integer' && !Number.isInteger(n)) problems[name] = t('fieldInteger', { field });
      else if (spec.minimum !== undefined && n < spec.minimum) problems[name] = t('fieldMin', { field, min: spec.minimum });
      else if (spec.maximum !== undefined && n > spec.maximum) problems[name] = t('fieldMax', { field, max: spec.maximum });
    } else if (spec.type === 'string' && typeof v === 'string') {
      if (spec.minLength !== undefined && v.length < spec.minLength) problems[name] = t('fieldMinLength', { field, min: spec.minLength });
      else if (spec.maxLength !== undefined && v.length > spec.maxLength) problems[name] = t('fieldMaxLength', { field, max: spec.maxLength });
      else if (spec.pattern && !safeTest(spec.pattern, v)) problems[name] = t('fieldPattern', { field });
    } else if (spec.type === 'array' && Array.isArray(v)) {
      if (spec.minItems !== undefined && v.length < spec.minItems) problems[name] = t('fieldMinItems', { field, min: spec.minItems });
      else if (spec.maxItems !== undefined && v.length > spec.maxItems) problems[name] = t('fieldMaxItems', { field, max: spec.maxItems });
    }
  }
  return problems;
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true; // the server has the last word
  }
}

/** The settings to send: typed values, empty ones left out (the server applies defaults). */
function clean(inputs: Record<string, InputSpec>, values: Values): Values {
  const out: Values = {};
  for (const [name, spec] of Object.entries(inputs)) {
    const v = values[name];
    if (empty(v)) continue;
    out[name] = spec.type === 'number' || spec.type === 'integer' ? Number(v) : v;
  }
  return out;
}

function focusFirstInvalid(form: HTMLFormElement): void {
  setTimeout(() => form.querySelector<HTMLElement>('[aria-invalid=true]')?.focus(), 0);
}
