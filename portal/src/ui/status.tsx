import type { ApprovalStatus, Connection, RunStatus } from '../api';
import { Badge } from './alert';

const RUN_TONES: Record<RunStatus, 'neutral' | 'success' | 'danger' | 'warning' | 'accent'> = {
  queued: 'neutral',
  running: 'accent',
  waiting: 'warning',
  succeeded: 'success',
  failed: 'danger',
  cancelled: 'neutral',
};

const RUN_LABELS: Record<RunStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const runStatusLabel = (status: RunStatus): string => RUN_LABELS[status] ?? status;

export function RunStatusBadge({ status }: { status: RunStatus }) {
  return <Badge tone={RUN_TONES[status] ?? 'neutral'}>{runStatusLabel(status)}</Badge>;
}

const APPROVAL_BADGES: Record<ApprovalStatus, [tone: 'neutral' | 'success' | 'danger' | 'warning', label: string]> = {
  pending: ['warning', 'Pending'],
  approved: ['success', 'Approved'],
  rejected: ['danger', 'Rejected'],
  expired: ['neutral', 'Expired'],
};

export const approvalStatusLabel = (status: ApprovalStatus): string => APPROVAL_BADGES[status]?.[1] ?? status;

export function ApprovalStatusBadge({ status }: { status: ApprovalStatus }) {
  return <Badge tone={APPROVAL_BADGES[status]?.[0] ?? 'neutral'}>{approvalStatusLabel(status)}</Badge>;
}

export function ConnectionStatusBadge({ status }: { status: Connection['status'] }) {
  switch (status) {
    case 'active':
      return <Badge tone="success">Active</Badge>;
    case 'needs_reauth':
      return <Badge tone="warning">Needs reconnect</Badge>;
    case 'revoked':
      return <Badge tone="neutral">Revoked</Badge>;
    default:
      return <Badge tone="danger">Error</Badge>;
  }
}
