import { useSignal } from '@preact/signals';
import { t } from '../i18n';
import { useEffect, useMemo } from 'preact/hooks';
import type { Connection, Integration } from '../types';
import type { Route, Widget } from '../widget';
import { SearchIcon, WarnIcon } from './icons';
import { Logo } from './logo';

export function StatusBadge({ connection }: { connection: Connection | null }) {
  if (!connection) return null;
  const [kind, text] = connection.status === 'active' ? ['ok', t('connected')] : connection.status === 'needs_reauth' ? ['warn', t('needsReauth')] : ['bad', t('connectionError')];
  return <span class={`badge ${kind}`}>{text}</span>;
}

/** What the search box matches an integration on: its name, description and category labels, lower-cased once per list. */
function searchText(i: Integration): string {
  return `${i.name} ${i.description ?? ''} ${categoriesOf(i).map(categoryLabel).join(' ')}`.toLowerCase();
}

const categoriesOf = (i: Integration): string[] => (i.categories?.length ? i.categories : [i.category]);

/**
 * The tenant's integrations: search, category filter, a connected badge on each. Every card stays
 * mounted and a filter only hides the others, so a keystroke re-renders no card and fetches no logo
 * again; off-screen cards skip layout (styles.css), and only a screenful is in the first paint.
 */
/** Cards in the first paint: more than any viewport shows; the rest mount on the next frame. */
const FIRST_PAINT_CARDS = 48;

export function Catalogue({ widget, go }: { widget: Widget; go: (route: Route) => void }) {
  const query = useSignal('');
  const everyCard = useSignal(false);
  // Effects run after the first paint (Preact waits for a frame, or 100 ms in a hidden tab).
  useEffect(() => {
    const timer = setTimeout(() => (everyCard.value = true));
    return () => clearTimeout(timer);
  }, []);
  const category = useSignal<string | null>(null);
  const all = widget.integrations.value;
  const indexed = useMemo(() => all.map((i) => ({ integration: i, text: searchText(i), categories: categoriesOf(i) })), [all]);
  const categories = useMemo(() => [...new Set(indexed.flatMap((i) => i.categories))].sort(), [indexed]);
  const q = query.value.trim().toLowerCase();
  const matches = (i: (typeof indexed)[number]) => (!category.value || i.categories.includes(category.value)) && (!q || i.text.includes(q));
  const shown = indexed.filter(matches).length;

  const pending = widget.approvals.value;
  // A flow's first connector, or the connector of an AI assistant's tool call (`<connector>_<action>`).
  const connectorOf = (a: { flow: string | null; tool?: string | null }) =>
    a.tool ? a.tool.split('_')[0] : widget.flows.value.find((f) => f.key === a.flow)?.connectors[0]?.split(':')[0];
  return (
    <>
      {pending.length > 0 && (
        <div class="alert warn" style={{ margin: '0 0 18px', alignItems: 'center' }}>
          <WarnIcon />
          <span class="grow">{t(pending.length === 1 ? 'pendingOne' : 'pendingMany', { n: pending.length })}</span>
          {connectorOf(pending[0]!) && (
            <button type="button" class="btn secondary" onClick={() => go({ screen: 'integration', key: connectorOf(pending[0]!)! })}>
              {t('review')}
            </button>
          )}
        </div>
      )}
      <div class="tools">
        <label class="search">
          <span class="sr">{t('search')}</span>
          <SearchIcon />
          <input type="search" placeholder={t('search')} value={query.value} onInput={(e) => (query.value = e.currentTarget.value)} autoComplete="off" />
        </label>
        {categories.length > 1 && (
          <div class="chips" role="group" aria-label={t('categories')}>
            {[null, ...categories].map((c) => (
              <button key={c ?? ''} type="button" class="chip" aria-pressed={category.value === c} onClick={() => (category.value = c)}>
                {c ? categoryLabel(c) : t('allCategories')}
              </button>
            ))}
          </div>
        )}
      </div>
      {shown === 0 && <p class="empty">{all.length === 0 ? t('noIntegrations') : t('noMatches', { query: query.value })}</p>}
      {all.length > 0 && (
        <ul class="grid" hidden={shown === 0}>
          {(everyCard.value ? indexed : indexed.slice(0, FIRST_PAINT_CARDS)).map((entry) => {
            const i = entry.integration;
            return (
              <li key={i.key} hidden={!matches(entry)}>
                {/* Named "Slack Connected" / "Slack Not connected": the description is there for the eye, and on the next page for everyone. */}
                <button type="button" class="card" onClick={() => go({ screen: 'integration', key: i.key })}>
                  <Logo url={i.logoUrl} monogram={i.monogram} name={i.name} />
                  <span class="meta">
                    <span class="name">{i.name}</span>
                    {i.description && (
                      <span class="desc" aria-hidden="true">
                        {i.description}
                      </span>
                    )}
                    {i.connection ? <StatusBadge connection={i.connection} /> : <span class="sr"> {t('notConnected')}</span>}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}

/** "developer-tools" → "Developer tools"; a `category_<slug>` message wins (e.g. CRM). */
export function categoryLabel(slug: string): string {
  const named = t(`category_${slug}` as 'title');
  return named !== `category_${slug}` && named ? named : (slug.charAt(0).toUpperCase() + slug.slice(1)).replace(/[-_]+/g, ' ');
}
