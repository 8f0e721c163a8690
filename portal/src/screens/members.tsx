import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { api, ApiError, messageOf, ROLE_RANK, ROLES, type Me, type Member, type Role } from '../api';
import { capitalize, formatDate, formatDateTime } from '../format';
import { can, loadSession, role as myRoleSignal } from '../session';
import { Alert, Badge, Spinner } from '../ui/alert';
import { ConfirmDialog } from '../ui/confirm-dialog';
import { CopyBox } from '../ui/copy-box';
import { Field, TextField } from '../ui/field';
import { EmptyState, PageHeader } from '../ui/page';
import { toast } from '../ui/toast';
import { FlushCard, Table } from '../ui/table';

const ROLE_HELP: Record<Role, string> = {
  owner: 'Everything, including managing owners.',
  admin: 'Manages members and settings.',
  developer: 'Manages API keys, reads the audit log.',
  viewer: 'Read-only access.',
};

/** Roles `mine` may grant: up to its own rank, and owner only by an owner (the server's rule). */
function grantable(mine: Role | null): Role[] {
  if (!mine || ROLE_RANK[mine] < ROLE_RANK.admin) return [];
  return ROLES.filter((r) => ROLE_RANK[r] <= ROLE_RANK[mine] && (r !== 'owner' || mine === 'owner'));
}

/** Error text for a failed member action: the API's own message (last_owner, insufficient_role…). */
const describe = messageOf;

export function Members({ me }: { me: Me }) {
  const members = useSignal<Member[] | null>(null);
  const loadError = useSignal<string | null>(null);
  const actionError = useSignal<string | null>(null);
  const email = useSignal('');
  const inviteRole = useSignal<Role>('developer');
  const inviting = useSignal(false);
  const inviteErrors = useSignal<Record<string, string>>({});
  const inviteError = useSignal<string | null>(null);
  const invited = useSignal<{ email: string; url: string } | null>(null);
  const pendingRole = useSignal<string | null>(null);
  const removing = useSignal<Member | null>(null);
  const removeBusy = useSignal(false);
  const removeError = useSignal<string | null>(null);
  const emailInput = useRef<HTMLInputElement>(null);

  const myRole = myRoleSignal.value;
  const manage = can('admin');
  const roles = grantable(myRole);

  async function load() {
    try {
      members.value = (await api.members()).data;
      loadError.value = null;
    } catch (caught) {
      loadError.value = messageOf(caught);
    }
  }

  useEffect(() => {
    void load();
  }, []);

  async function invite(event: Event) {
    event.preventDefault();
    if (inviting.value) return;
    inviting.value = true;
    inviteErrors.value = {};
    inviteError.value = null;
    try {
      const result = await api.invite(email.value.trim(), inviteRole.value);
      invited.value = { email: result.member.email, url: result.inviteUrl };
      email.value = '';
      await load();
    } catch (caught) {
      const fields = caught instanceof ApiError ? caught.fieldErrors : {};
      if (fields.email || fields.role) inviteErrors.value = fields;
      else inviteError.value = describe(caught);
      emailInput.current?.focus();
    } finally {
      inviting.value = false;
    }
  }

  async function changeRole(member: Member, next: Role) {
    pendingRole.value = member.id;
    actionError.value = null;
    try {
      const updated = await api.changeRole(member.id, next);
      members.value = (members.value ?? []).map((m) => (m.id === updated.id ? { ...m, role: updated.role } : m));
      toast(`${member.email} is now ${updated.role === 'admin' || updated.role === 'owner' ? 'an' : 'a'} ${updated.role}`);
      // Changing your own role changes what this portal may show.
      if (member.userId === me.userId) await loadSession();
    } catch (caught) {
      actionError.value = describe(caught);
      // Put the select back to the role the member still has.
      members.value = [...(members.value ?? [])];
    } finally {
      pendingRole.value = null;
    }
  }

  async function remove() {
    const member = removing.value;
    if (!member) return;
    removeBusy.value = true;
    removeError.value = null;
    actionError.value = null;
    try {
      await api.removeMember(member.id);
      removing.value = null;
      if (member.userId === me.userId) {
        await loadSession();
        return;
      }
      toast(member.status === 'invited' ? `Cancelled the invitation for ${member.email}` : `Removed ${member.email}`);
      await load();
    } catch (caught) {
      removeError.value = describe(caught);
    } finally {
      removeBusy.value = false;
    }
  }

  /** Whether this member's role and membership are ours to change. */
  const editable = (m: Member) => manage && roles.includes(m.role);

  return (
    <>
      <PageHeader title="Members" description="The people who can sign in to this tenant, and what each of them may do." />

      {manage && (
        <section class="card" aria-labelledby="invite-title">
          <h2 id="invite-title" class="card-title">
            Invite someone
          </h2>
          {inviteError.value && <Alert tone="error">{inviteError.value}</Alert>}
          <form class="inline-form" onSubmit={invite} noValidate>
            <TextField
              label="Email"
              type="email"
              name="email"
              autoComplete="off"
              spellcheck={false}
              placeholder="name@company.com"
              value={email.value}
              onValue={(v) => (email.value = v)}
              error={inviteErrors.value.email}
              inputRef={emailInput}
              class="grow"
            />
            <Field label="Role" error={inviteErrors.value.role} hint={ROLE_HELP[inviteRole.value]}>
              {(aria) => (
                <select {...aria} name="role" value={inviteRole.value} onChange={(e) => (inviteRole.value = e.currentTarget.value as Role)}>
                  {roles.map((r) => (
                    <option key={r} value={r}>
                      {capitalize(r)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit" class="btn btn-primary" disabled={inviting.value}>
              {inviting.value ? 'Inviting…' : 'Send invite'}
            </button>
          </form>
        </section>
      )}

      {invited.value && (
        <section class="callout" aria-labelledby="invite-link-title">
          <h2 id="invite-link-title" class="callout-title">
            {invited.value.email} is invited
          </h2>
          <p>
            <strong>Send them this link: you will not see it again.</strong> It works once and expires in 7 days.
          </p>
          <CopyBox label="Invitation link" value={invited.value.url} autoFocus />
          <div class="callout-actions">
            <button type="button" class="btn btn-secondary" onClick={() => (invited.value = null)}>
              Done
            </button>
          </div>
        </section>
      )}

      <FlushCard
        titleId="members-title"
        title="People"
        aside={
          members.value && (
            <span class="muted small">
              {members.value.filter((m) => m.status === 'active').length} active, {members.value.filter((m) => m.status === 'invited').length} invited
            </span>
          )
        }
      >
        {actionError.value && (
          <div class="card-pad">
            <Alert tone="error" onDismiss={() => (actionError.value = null)}>
              {actionError.value}
            </Alert>
          </div>
        )}
        {loadError.value && (
          <div class="card-pad">
            <Alert tone="error" title="Could not load the members">
              {loadError.value}{' '}
              <button type="button" class="link-button" onClick={load}>
                Try again
              </button>
            </Alert>
          </div>
        )}
        {!members.value && !loadError.value && (
          <div class="card-pad">
            <Spinner label="Loading members…" />
          </div>
        )}
        {members.value && members.value.length === 0 && <EmptyState title="No members" />}
        {members.value && members.value.length > 0 && (
          <Table columns={['Member', 'Role', 'Status', 'Added', <span class="sr-only">Actions</span>]}>
            {members.value.map((m) => {
              const self = m.userId === me.userId;
              return (
                <tr key={m.id} data-member-id={m.id}>
                  <th scope="row">
                    <span class="cell-member">
                      <span class="avatar" aria-hidden="true">
                        {(m.name || m.email).charAt(0).toUpperCase()}
                      </span>
                      <span class="member-text">
                        <span class="cell-strong">{m.name || m.email}</span>
                        {m.name && <span class="muted small">{m.email}</span>}
                        {self && <span class="muted small">You</span>}
                      </span>
                    </span>
                  </th>
                  <td>
                    {editable(m) ? (
                      <select
                        class="select-small"
                        aria-label={`Role of ${m.email}`}
                        value={m.role}
                        disabled={pendingRole.value === m.id}
                        onChange={(e) => changeRole(m, e.currentTarget.value as Role)}
                      >
                        {roles.map((r) => (
                          <option key={r} value={r}>
                            {capitalize(r)}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <span class="role">{capitalize(m.role)}</span>
                    )}
                  </td>
                  <td>{m.status === 'active' ? <Badge tone="success">Active</Badge> : <Badge tone="warning">Invited</Badge>}</td>
                  <td>
                    <time dateTime={m.createdAt} title={formatDateTime(m.createdAt)}>
                      {formatDate(m.createdAt)}
                    </time>
                  </td>
                  <td class="cell-actions">
                    {(self || editable(m)) && (
                      <button
                        type="button"
                        class="btn btn-danger-quiet btn-small"
                        aria-label={self ? 'Leave this tenant' : m.status === 'invited' ? `Cancel the invitation for ${m.email}` : `Remove ${m.email}`}
                        onClick={() => {
                          removeError.value = null;
                          removing.value = m;
                        }}
                      >
                        {self ? 'Leave' : m.status === 'invited' ? 'Cancel invite' : 'Remove'}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
      </FlushCard>

      {removing.value && (
        <ConfirmDialog
          title={
            removing.value.userId === me.userId
              ? 'Leave this tenant?'
              : removing.value.status === 'invited'
                ? `Cancel the invitation for ${removing.value.email}?`
                : `Remove ${removing.value.email}?`
          }
          confirmLabel={removing.value.userId === me.userId ? 'Leave' : removing.value.status === 'invited' ? 'Cancel invite' : 'Remove member'}
          busy={removeBusy.value}
          error={removeError.value}
          onConfirm={remove}
          onCancel={() => (removing.value = null)}
        >
          <p>
            {removing.value.userId === me.userId
              ? 'You will lose access to this tenant until someone invites you again.'
              : removing.value.status === 'invited'
                ? 'The invitation link will stop working.'
                : 'They will lose access to this tenant at once. You can invite them again later.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
