/** The footer of a paged list: "Load more" while the API has a next cursor, else a quiet end marker. */
export function LoadMore({ hasMore, loading, onMore, end = 'That is everything.' }: { hasMore: boolean; loading: boolean; onMore: () => void; end?: string }) {
  return (
    <div class="card-footer">
      {hasMore ? (
        <button type="button" class="btn btn-secondary" disabled={loading} onClick={onMore}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      ) : (
        <span class="muted small">{end}</span>
      )}
    </div>
  );
}
