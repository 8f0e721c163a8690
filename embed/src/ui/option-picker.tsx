import { signal, useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';
import type { OptionItem } from '../types';
import type { Widget } from '../widget';

/** Labels of values seen, so a saved value shows its name before its page of options is loaded. */
const labels = new Map<string, string>();
/** Bumped when labels learns something, so pickers showing a raw value re-render. */
const learned = signal(0);

interface Props {
  widget: Widget;
  id: string;
  connector: string;
  source: string;
  connectionId?: string;
  multiple: boolean;
  value: string | string[] | undefined;
  onChange(value: string | string[] | undefined): void;
  describedBy?: string;
  invalid?: boolean;
  required?: boolean;
}

/**
 * A combobox over a connector's option source (Slack channels…): search as you type, "Load more"
 * for further pages, an error with Retry when the source fails or times out. ARIA combobox pattern:
 * arrows move, Enter picks, Escape closes the list (not the modal).
 */
export function OptionPicker(props: Props) {
  const { id, connector, source } = props;
  const listId = `${id}l`;
  const key = (value: string) => `${connector}/${source}/${value}`;
  const open = useSignal(false);
  const query = useSignal('');
  const items = useSignal<OptionItem[]>([]);
  const cursor = useSignal<string | null>(null);
  const loading = useSignal(false);
  const failure = useSignal<string | null>(null);
  const active = useSignal(-1);
  const sequence = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);
  const root = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLDivElement>(null);
  /** The list opens above the field when there is no room for it below but there is above. */
  const up = useSignal(false);
  const chosen = props.multiple ? (Array.isArray(props.value) ? props.value : []) : typeof props.value === 'string' && props.value ? [props.value] : [];
  const labelOf = (value: string) => (learned.value, labels.get(key(value)) ?? value);

  const load = async (more = false) => {
    const seq = ++sequence.current;
    loading.value = true;
    failure.value = null;
    try {
      const page = await props.widget.getOptions(connector, source, {
        search: query.value.trim() || undefined,
        cursor: more ? (cursor.value ?? undefined) : undefined,
        connectionId: props.connectionId,
      });
      if (seq !== sequence.current) return; // a newer search answered first
      for (const o of page.options) labels.set(key(o.value), o.label);
      learned.value++;
      items.value = more ? [...items.value, ...page.options] : page.options;
      cursor.value = page.nextCursor ?? null;
      if (!more) active.value = page.options.length ? 0 : -1;
    } catch (error) {
      if (seq === sequence.current) failure.value = t('optionsFailed', { message: (error as Error).message });
    } finally {
      if (seq === sequence.current) loading.value = false;
    }
  };

  // Opening below in the last field of a scrolling body: scroll the list into sight, not off its edge.
  useEffect(() => {
    if (open.value && !up.value) list.current?.scrollIntoView?.({ block: 'nearest' });
  }, [open.value]);

  // A saved value's label: the first page usually has it.
  useEffect(() => {
    if (chosen.some((v) => !labels.has(key(v)))) load();
    return () => clearTimeout(timer.current);
  }, []);

  const show = () => {
    if (open.value) return;
    up.value = opensUp(root.current);
    open.value = true;
    if (items.value.length === 0 || failure.value) load();
  };
  const pick = (option: OptionItem) => {
    if (props.multiple) {
      props.onChange(chosen.includes(option.value) ? chosen.filter((v) => v !== option.value) : [...chosen, option.value]);
    } else {
      props.onChange(option.value);
      open.value = false;
      query.value = '';
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!open.value) return show();
      const n = items.value.length;
      if (n) active.value = (active.value + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
    } else if (e.key === 'Enter' && open.value) {
      e.preventDefault();
      const option = items.value[active.value];
      if (option) pick(option);
    } else if (e.key === 'Escape' && open.value) {
      e.preventDefault();
      e.stopPropagation();
      open.value = false;
      query.value = '';
    }
  };

  const activeId = open.value && active.value >= 0 ? `${id}o${active.value}` : undefined;
  return (
    <div
      ref={root}
      class="picker"
      onFocusOut={(e) => {
        if (!(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node | null)) {
          open.value = false;
          query.value = '';
        }
      }}
    >
      {props.multiple && chosen.length > 0 && (
        <div class="tags">
          {chosen.map((v) => (
            <span key={v} class="tag">
              {labelOf(v)}
              <button type="button" aria-label={t('remove', { label: labelOf(v) })} onClick={() => props.onChange(chosen.filter((c) => c !== v))}>
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      <input
        ref={input}
        id={id}
        class="input"
        type="text"
        role="combobox"
        aria-expanded={open.value}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={activeId}
        aria-describedby={props.describedBy}
        aria-invalid={props.invalid}
        aria-required={props.required}
        autoComplete="off"
        placeholder={open.value ? t('searchOptions') : t('choose')}
        value={open.value || props.multiple ? query.value : chosen[0] ? labelOf(chosen[0]) : ''}
        onClick={show}
        onInput={(e) => {
          query.value = e.currentTarget.value;
          open.value = true;
          clearTimeout(timer.current);
          timer.current = setTimeout(() => load(), 250);
        }}
        onKeyDown={onKeyDown}
      />
      {open.value && (
        <div ref={list} class={up.value ? 'list up' : 'list'}>
          <ul id={listId} role="listbox" aria-multiselectable={props.multiple || undefined} aria-label={t('searchOptions')}>
            {items.value.map((option, i) => (
              <li
                key={option.value}
                id={`${id}o${i}`}
                role="option"
                aria-selected={chosen.includes(option.value)}
                class={i === active.value ? 'option active' : 'option'}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => pick(option)}
              >
                {option.label}
                {option.description && <small>{option.description}</small>}
              </li>
            ))}
          </ul>
          {loading.value && <p class="note">{t('loading')}</p>}
          {!loading.value && !failure.value && items.value.length === 0 && <p class="note">{t('noOptions')}</p>}
          {failure.value && (
            <div class="alert bad" role="alert" style={{ margin: '4px' }}>
              <span class="grow">{failure.value}</span>
              <button type="button" class="btn secondary" onMouseDown={(e) => e.preventDefault()} onClick={() => load()}>
                {t('retry')}
              </button>
            </div>
          )}
          {cursor.value && !loading.value && !failure.value && (
            <button type="button" class="btn ghost more" onMouseDown={(e) => e.preventDefault()} onClick={() => load(true)}>
              {t('loadMore')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** The list's full height (max-height 240 px, its 4 px gap and a margin). */
const LIST_ROOM = 252;

/** Whether the list fits below the field in what clips it (the scrolling body, or the viewport) and more room is above. */
function opensUp(field: HTMLElement | null): boolean {
  if (!field) return false;
  const rect = field.getBoundingClientRect();
  const body = field.closest('.body');
  const clip = body && getComputedStyle(body).overflowY !== 'visible' ? body.getBoundingClientRect() : null;
  const top = Math.max(clip?.top ?? 0, 0);
  const bottom = Math.min(clip?.bottom ?? Infinity, window.innerHeight);
  const below = bottom - rect.bottom;
  return below < LIST_ROOM && rect.top - top > below;
}
