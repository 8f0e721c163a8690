import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { type Approval, APPROVAL_STATUSES, type ApprovalStatus, api, messageOf } from '../api';
import { Link, query, setQuery } from '../router';
import { Alert, Spinner } from '../ui/alert';
import { Field } from '../ui/field';
import { ClearFilters, EndUserFilter } from '../ui/filters';
import { LoadMore } from '../ui/load-more';
import { EmptyState, PageHeader } from '../ui/page';
import { ApprovalStatusBadge, approvalStatusLabel } from '../ui/status';
import { Time } from '../ui/time';
import { FlushCard, Table } from '../ui/table';
import { LIVE_INTERVAL_MS, useVisiblePolling } from './runs';

const PAGE_SIZE = 50;

const VIA: Record<NonNullable<Approval['decidedVia']>, string> = { end_user: 'end user', host: 'host API', timeout: 'timed out', cancel: 'run cancelled' };

/** `?status=` absent means pending (what needs attention); `all` means no status filter. */
function filtersFromQuery(params: URLSearchParams): { status: ApprovalStatus | 'all'; endUserId: string } {
  const status = params.get('status');
  return {
    status: status === 'all' || APPROVAL_STATUSES.includes(status as ApprovalStatus) ? (status as ApprovalStatus | 'all') : 'pending',
    endUserId: params.get('endUserId') ?? '',
  };
}

function Decided({ approval }: { approval: Approval }) {
  if (!approval.decidedVia) return <span class="muted">—</span>;
  return (
    <>
      {approval.decidedBy && <span class="mono small block">{approval.decidedBy}</span>}
      <span class="muted small">{VIA[approval.decidedVia] ?? approval.decidedVia}</span>
    </>
  );
}

export function Approvals() {
  const filters = filtersFromQuery(query.value);
  const approvals = useSignal<Approval[] | null>(null);
  const cursor = useSignal<string | null>(null);
  const loading = useSignal(false);
  const error = useSignal<string | null>(null);
  const endUserDraft = useSignal(filters.endUserId ?? '');
  const generation = useRef(0);

  const apiFilters = () => ({ status: filters.status === 'all' ? undefined : filters.status, endUserId: filters.endUserId || undefined, limit: PAGE_SIZE });

  async function load(reset: boolean) {
    const mine = reset ? ++generation.current : generation.current;
    loading.value = true;
    error.value = null;
    try {
      const page = await api.approvals({ ...apiFilters(), cursor: reset ? null : cursor.value });
      if (mine !== generation.current) return;
      approvals.value = reset ? page.data : [...(approvals.value ?? []), ...page.data];
      cursor.value = page.nextCursor;
    } catch (caught) {
      if (mine === generation.current) error.value = messageOf(caught);
    } finally {
      if (mine === generation.current) loading.value = false;
    }
  }

  /** Within the first page the list is replaced (decided approvals leave the pending list); past it, new ones go on top and known ones are updated. */
  async function refresh() {
    const mine = generation.current;
    try {
      const page = await api.approvals(apiFilters());
      if (mine !== generation.current || !approvals.value) return;
      if (approvals.value.length <= PAGE_SIZE) {
        approvals.value = page.data;
        cursor.value = page.nextCursor;
      } else {
        const fresh = new Map(page.data.map((a) => [a.id, a]));
        const known = new Set(approvals.value.map((a) => a.id));
        approvals.value = [...page.data.filter((a) => !known.has(a.id)), ...approvals.value.map((a) => fresh.get(a.id) ?? a)];
      }
      error.value = null;
    } catch (caught) {
      error.value = messageOf(caught);
    }
  }

  useEffect(() => {
    approvals.value = null;
    void load(true);
  }, [filters.status, filters.endUserId]);

  useVisiblePolling(() => void refresh(), LIVE_INTERVAL_MS, approvals.value !== null);

  const filtered = filters.status !== 'pending' || Boolean(filters.endUserId);
  const statusWord = filters.status === 'all' ? '' : `${approvalStatusLabel(filters.status).toLowerCase()} `;
  return (
    <>
      <PageHeader title="Approvals" description="Questions that approval steps in your flows ask before going on, newest first. The list updates itself while this tab is open." />
      <FlushCard titleId="approvals-title" title="Approvals">
        <form
          class="filters"
          role="search"
          aria-label="Filter approvals"
          onSubmit={(e) => {
            e.preventDefault();
            setQuery({ endUserId: endUserDraft.value.trim() });
          }}
        >
          <Field label="Status" class="filter">
            {(aria) => (
              <select
                {...aria}
                class="select-small"
                value={filters.status}
                onChange={(e) => setQuery({ status: e.currentTarget.value === 'pending' ? null : e.currentTarget.value })}
              >
                {APPROVAL_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {approvalStatusLabel(s)}
                  </option>
                ))}
                <option value="all">All statuses</option>
              </select>
            )}
          </Field>
          <EndUserFilter draft={endUserDraft} />
          {filtered && (
            <ClearFilters
              onClear={() => {
                endUserDraft.value = '';
                setQuery({ status: null, endUserId: null });
              }}
            />
          )}
        </form>
        <div class="card-pad">
          <Alert tone="info">
            Your team can see approvals but not decide them: the end user decides in the widget, or your backend through the API (<code>POST /v1/approvals/:id/approve</code>).
          </Alert>
        </div>
        {error.value && (
          <div class="card-pad">
            <Alert tone="error" title="Could not load the approvals">
              {error.value}
            </Alert>
          </div>
        )}
        {approvals.value === null && !error.value && (
          <div class="card-pad card-pad-bottom">
            <Spinner label="Loading approvals…" />
          </div>
        )}
        {approvals.value && approvals.value.length === 0 && (
          <EmptyState title={filters.endUserId ? 'No approvals match these filters' : `No ${statusWord}approvals`}>
            An approval step in a flow pauses the run and asks a question, such as “Post this to #sales?”. The end user answers it in the widget, or your backend answers it through
            the API; the run then goes on. Asked approvals appear here.
          </EmptyState>
        )}
        {approvals.value && approvals.value.length > 0 && (
          <>
            <Table columns={['Title', 'Flow', 'End user', 'Status', 'Asked', 'Expires', 'Decided by']}>
              {approvals.value.map((approval) => (
                <tr key={approval.id} data-approval-id={approval.id} data-status={approval.status}>
                  <th scope="row">
                    <Link to={`runs/${approval.runId}`} class="cell-link" aria-label={`${approval.title}: run details`}>
                      {approval.title}
                    </Link>
                    {approval.description && (
                      <p class="approval-description small muted" title={approval.description}>
                        {approval.description}
                      </p>
                    )}
                  </th>
                  <td>{approval.tool ? `${approval.flowName}: ${approval.tool}` : approval.flowName || approval.flow}</td>
                  <td>
                    <span class="mono small">{approval.endUserId}</span>
                  </td>
                  <td>
                    <ApprovalStatusBadge status={approval.status} />
                  </td>
                  <td class="nowrap">
                    <Time iso={approval.createdAt} relative />
                  </td>
                  <td class="nowrap">
                    {approval.expiresAt ? <Time iso={approval.expiresAt} relative /> : <span class="muted">{approval.status === 'pending' ? 'never' : '—'}</span>}
                  </td>
                  <td>
                    <Decided approval={approval} />
                  </td>
                </tr>
              ))}
            </Table>
            <LoadMore
              hasMore={cursor.value !== null}
              loading={loading.value}
              onMore={() => load(false)}
              end={filtered ? 'That is every approval matching these filters.' : 'That is every pending approval.'}
            />
          </>
        )}
      </FlushCard>
    </>
  );
}
