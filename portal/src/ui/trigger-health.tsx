import type { TriggerHealth } from '../api';
import { formatRelative } from '../format';
import { Badge } from './alert';
import { Time } from './time';

const BADGES: Record<TriggerHealth['status'], [tone: 'success' | 'warning' | 'danger', label: string]> = {
  ok: ['success', 'OK'],
  waiting: ['warning', 'Waiting'],
  failing: ['danger', 'Failing'],
};

/**
 * A poll or provider-webhook trigger's health: a badge, then what it means (last check, first check
 * to come, or the last error with its code on hover and when it is tried again).
 */
export function TriggerHealthView({ health }: { health: TriggerHealth }) {
  const [tone, label] = BADGES[health.status] ?? BADGES.ok;
  const error = health.status === 'failing' ? health.error : null;
  return (
    <span class="trigger-health">
      <Badge tone={tone}>{label}</Badge>
      {error ? (
        <span class="trigger-health-text">
          <span class="trigger-error" title={error.code}>
            {error.message}
          </span>
          <span class="muted small block">
            Since <Time iso={error.at} relative />
            {error.retryAt && ` · retries ${Date.parse(error.retryAt) > Date.now() ? formatRelative(error.retryAt) : 'shortly'}`}
          </span>
        </span>
      ) : (
        <span class="muted small">
          {health.status === 'waiting' ? (
            'Not checked yet'
          ) : health.lastCheckedAt ? (
            <>
              Checked <Time iso={health.lastCheckedAt} relative />
            </>
          ) : (
            'Listening for events'
          )}
        </span>
      )}
    </span>
  );
}
