import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { catalogue } from '../../../src/errors/catalogue.ts';
import { api, ApiError } from '../api.ts';
import { ErrorNotice, explain } from '../errors.tsx';
import { displayName, roleLabel, useMe, type Role } from '../shell/session.ts';
import { Confirm, CopyValue, formatRelative, When } from '../ui/admin.tsx';
import { Button, PageHeading, TextField } from '../ui/form.tsx';
import { PageLoading } from '../ui/layout.tsx';

interface Member {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  role: Role;
  status: 'active' | 'deactivated';
  ssoLinked: boolean;
}

interface PendingInvitation {
  id: string;
  email: string;
  role: Role;
  expiresAt: string;
}

interface Roster {
  members: Member[];
  invitations: PendingInvitation[];
}

interface InviteCreated {
  invitation: PendingInvitation;
  inviteUrl: string;
  emailed?: boolean;
}

/** `/team`: invite people, manage members' roles and access. */
export default function Team() {
  const me = useMe();
  const [roster, setRoster] = useState<Roster | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    try {
      setRoster(await api<Roster>('GET', '/api/members'));
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  const activeCount = roster?.members.filter((m) => m.status === 'active').length ?? 0;

  return (
    <>
      <PageHeading title="Team">Team</PageHeading>
      <p className="lede">Invite people to {me.tenant.name}, choose what they can do, and turn off access when someone leaves.</p>

      <InviteForm onInvited={reload} />

      {loadError !== null && <ErrorNotice error={loadError} />}
      {!roster && loadError === null && <PageLoading />}

      {roster && (
        <>
          <section className="section">
            <h2>
              Members <span className="count">{activeCount} active</span>
            </h2>
            <ul className="rows">
              {roster.members.map((member) => (
                <MemberRow key={member.id} member={member} isYou={member.id === me.user?.id} onChanged={reload} />
              ))}
            </ul>
          </section>

          <section className="section">
            <h2>Pending invitations</h2>
            {roster.invitations.length === 0 ? (
              <p className="empty">No pending invitations. People you invite appear here until they accept.</p>
            ) : (
              <ul className="rows">
                {roster.invitations.map((invitation) => (
                  <InvitationRow key={invitation.id} invitation={invitation} onChanged={reload} />
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </>
  );
}

function InviteForm({ onInvited }: { onInvited: () => Promise<void> }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [busy, setBusy] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<InviteCreated | null>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const roleId = useId();

  async function invite(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const trimmed = email.trim();
    if (!trimmed) {
      setFieldError('Enter the email address of the person to invite.');
      emailRef.current?.focus();
      return;
    }
    setBusy(true);
    setFieldError(null);
    setError(null);
    try {
      const result = await api<InviteCreated>('POST', '/api/members/invitations', { email: trimmed, role });
      setCreated(result);
      setEmail('');
      await onInvited();
    } catch (err) {
      // Refusals about the address itself belong next to the address.
      if (err instanceof ApiError && (err.code === 'already_member' || err.code === 'invalid_email')) {
        const { message, fix } = explain(err);
        setFieldError(fix ? `${message} ${fix}` : message);
        emailRef.current?.focus();
      } else {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card">
      <h2>Invite someone</h2>
      <form className="inline-form" onSubmit={invite} noValidate>
        <TextField
          className="grow"
          label="Email"
          type="email"
          name="email"
          autoComplete="off"
          spellCheck={false}
          autoCapitalize="off"
          inputRef={emailRef}
          value={email}
          onChange={setEmail}
          error={fieldError}
        />
        <div className="field">
          <label htmlFor={roleId}>Role</label>
          <select id={roleId} value={role} onChange={(event) => setRole(event.target.value as Role)}>
            <option value="member">Member</option>
            <option value="admin">Admin</option>
          </select>
        </div>
        <div className="field field-action">
          <Button type="submit" variant="primary" busy={busy}>
            Invite
          </Button>
        </div>
      </form>
      <p className="hint">
        Admins can also manage members, single sign-on and bots. An invitation link works once and expires after 7 days; inviting the same
        email again replaces the earlier link.
      </p>
      {error !== null && <ErrorNotice error={error} />}
      {created && (
        <div className="notice notice-success" role="status">
          <p className="notice-title">Invitation ready for {created.invitation.email}</p>
          <p>
            {created.emailed
              ? 'We emailed them the link. You can also copy it and send it yourself.'
              : 'It was not sent by email. Copy the link and send it to them yourself.'}
          </p>
          <CopyValue label="Invitation link" value={created.inviteUrl} testId="invite-url" />
        </div>
      )}
    </section>
  );
}

type MemberAction = 'deactivate' | 'reactivate' | 'clear-sso';

function MemberRow({ member, isYou, onChanged }: { member: Member; isYou: boolean; onChanged: () => Promise<void> }) {
  const [confirming, setConfirming] = useState<MemberAction | null>(null);
  const [busy, setBusy] = useState<MemberAction | 'role' | null>(null);
  const [error, setError] = useState<unknown>(null);
  const rowRef = useRef<HTMLLIElement>(null);
  const whoId = useId();
  const name = displayName(member);
  const active = member.status === 'active';
  const otherRole: Role = member.role === 'admin' ? 'member' : 'admin';

  async function run(action: MemberAction | 'role', call: () => Promise<unknown>) {
    setBusy(action);
    setError(null);
    try {
      await call();
      setConfirming(null);
      await onChanged();
      // The confirmation is gone; keep the keyboard in this row, on the opposite action when there is one.
      if (action !== 'role') {
        const next = action === 'deactivate' ? 'reactivate' : 'deactivate';
        requestAnimationFrame(() => {
          const row = rowRef.current;
          (row?.querySelector<HTMLElement>(`[data-action="${next}"]`) ?? row?.querySelector<HTMLElement>('[data-action]'))?.focus();
        });
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  }

  function cancel() {
    const action = confirming;
    setConfirming(null);
    // Put focus back on the button that opened the confirmation.
    requestAnimationFrame(() => rowRef.current?.querySelector<HTMLElement>(`[data-action="${action}"]`)?.focus());
  }

  const base = `/api/members/${encodeURIComponent(member.id)}`;
  const confirmations: Record<MemberAction, { text: string; label: string; tone: 'danger' | 'primary'; call: () => Promise<unknown> }> = {
    deactivate: {
      text: isYou
        ? 'Deactivate your own account? You will be signed out at once and cannot sign back in until another admin reactivates you.'
        : `Deactivate ${name}? They are signed out everywhere at once, their bot tokens stop working, and they cannot sign in by any method until reactivated.`,
      label: 'Yes, deactivate',
      tone: 'danger',
      call: () => api('POST', `${base}/deactivate`),
    },
    reactivate: {
      text: `Reactivate ${name}? They can sign in again with their usual method.`,
      label: 'Yes, reactivate',
      tone: 'primary',
      call: () => api('POST', `${base}/reactivate`),
    },
    'clear-sso': {
      text: `Clear the identity-provider account linked to ${name}? Their next single sign-on links whichever account the provider returns for ${member.email}. Do this when someone's account at the provider was recreated.`,
      label: 'Yes, clear',
      tone: 'danger',
      call: () => api('DELETE', `${base}/sso-identity`),
    },
  };
  const pending = confirming ? confirmations[confirming] : null;

  return (
    <li className={`row${active ? '' : ' row-inactive'}`} ref={rowRef}>
      <div className="row-main">
        <div className="who" id={whoId}>
          <span className="who-name">
            {name}
            {isYou && <span className="muted"> (you)</span>}
          </span>
          {name !== member.email && <span className="who-email">{member.email}</span>}
        </div>
        <div className="badges">
          <span className={`badge${member.role === 'admin' ? ' badge-accent' : ''}`}>{roleLabel[member.role] ?? member.role}</span>
          {!active && <span className="badge badge-muted">Deactivated</span>}
          {member.ssoLinked && <span className="badge">SSO linked</span>}
        </div>
        {!pending && (
          <div className="row-actions">
            <Button variant="ghost" aria-describedby={whoId} busy={busy === 'role'} onClick={() => run('role', () => api('PATCH', base, { role: otherRole }))}>
              {otherRole === 'admin' ? 'Make admin' : 'Make member'}
            </Button>
            {member.ssoLinked && (
              <Button variant="ghost" aria-describedby={whoId} data-action="clear-sso" onClick={() => setConfirming('clear-sso')}>
                Clear SSO identity
              </Button>
            )}
            {active ? (
              <Button variant="ghost" className="btn-ghost-danger" aria-describedby={whoId} data-action="deactivate" onClick={() => setConfirming('deactivate')}>
                Deactivate
              </Button>
            ) : (
              <Button variant="ghost" aria-describedby={whoId} data-action="reactivate" onClick={() => setConfirming('reactivate')}>
                Reactivate
              </Button>
            )}
          </div>
        )}
      </div>
      {pending && confirming && (
        <Confirm confirmLabel={pending.label} tone={pending.tone} busy={busy === confirming} onCancel={cancel} onConfirm={() => run(confirming, pending.call)}>
          <p>{pending.text}</p>
        </Confirm>
      )}
      {error !== null && <RowError error={error} />}
    </li>
  );
}

/** A refusal shown right under the control that caused it (e.g. last_admin). */
function RowError({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.code === 'last_admin') {
    return (
      <div className="notice notice-error" role="alert">
        <p className="notice-title">{catalogue.last_admin.message}</p>
        <p>{catalogue.last_admin.fix}</p>
      </div>
    );
  }
  return <ErrorNotice error={error} />;
}

function InvitationRow({ invitation, onChanged }: { invitation: PendingInvitation; onChanged: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const whoId = useId();
  const expired = new Date(invitation.expiresAt).getTime() < Date.now();

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      await api('DELETE', `/api/members/invitations/${encodeURIComponent(invitation.id)}`);
      await onChanged();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <li className="row">
      <div className="row-main">
        <div className="who" id={whoId}>
          <span className="who-name break">{invitation.email}</span>
          <span className="who-email">
            {expired ? 'Expired ' : 'Expires '}
            <When iso={invitation.expiresAt} /> ({formatRelative(invitation.expiresAt)})
          </span>
        </div>
        <div className="badges">
          <span className={`badge${invitation.role === 'admin' ? ' badge-accent' : ''}`}>{roleLabel[invitation.role] ?? invitation.role}</span>
          {expired && <span className="badge badge-muted">Expired</span>}
        </div>
        <div className="row-actions">
          <Button variant="ghost" className="btn-ghost-danger" aria-describedby={whoId} busy={busy} onClick={revoke}>
            Revoke
          </Button>
        </div>
      </div>
      {error !== null && <ErrorNotice error={error} />}
    </li>
  );
}
