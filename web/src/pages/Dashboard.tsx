import { Link } from '../router.tsx';
import { displayName, roleLabel, useMe } from '../shell/session.ts';
import { Fact } from '../ui/admin.tsx';
import { PageHeading } from '../ui/form.tsx';

const methodLabel = { password: 'Password', sso: 'Single sign-on' } as const;

const adminAreas = [
  { href: '/team', title: 'Members and invitations', text: 'Invite people, change roles, and turn off access for someone who has left.' },
  { href: '/integrations/sso', title: 'Identity provider', text: 'Connect Microsoft Entra ID, Okta, Google Workspace, Auth0 or any OpenID Connect provider.' },
  { href: '/bots', title: 'API tokens', text: 'Give scripts and services a token of their own, and revoke it at any time.' },
] as const;

/** `/`: who you are, where you are, and how you got in. */
export default function Dashboard() {
  const me = useMe();

  if (!me.user) {
    return (
      <>
        <PageHeading title="Overview">Signed in as a bot</PageHeading>
        <p className="lede">
          This is the bot <strong>{me.bot?.name}</strong> of {me.tenant.name}. Bots use the API; there is nothing to manage here.
        </p>
      </>
    );
  }

  const { user, tenant, session } = me;
  const isAdmin = user.role === 'admin';

  return (
    <>
      <PageHeading title="Overview">Welcome, {user.firstName || displayName(user)}</PageHeading>
      <p className="lede">
        You are signed in to <strong>{tenant.name}</strong>.
      </p>

      <section className="card">
        <h2>Your account</h2>
        <dl className="facts">
          <Fact label="Name">{displayName(user)}</Fact>
          <Fact label="Email">
            <span className="break">{user.email}</span>
          </Fact>
          <Fact label="Role">{roleLabel[user.role] ?? user.role}</Fact>
          <Fact label="Team">
            {tenant.name} <span className="muted">({tenant.slug})</span>
          </Fact>
          {session && (
            <Fact label="Signed in with" testId="session-method">
              {methodLabel[session.method] ?? session.method}
            </Fact>
          )}
        </dl>
      </section>

      {isAdmin ? (
        <section>
          <h2>Manage {tenant.name}</h2>
          <ul className="tiles">
            {adminAreas.map((area) => {
              const id = `tile-${area.href.replace(/\W/g, '')}`;
              return (
                <li key={area.href}>
                  <Link className="tile" href={area.href} aria-labelledby={`${id}-title`} aria-describedby={`${id}-text`}>
                    <span className="tile-title" id={`${id}-title`}>
                      {area.title}
                    </span>
                    <span className="tile-text" id={`${id}-text`}>
                      {area.text}
                    </span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </section>
      ) : (
        <p className="muted">Team settings are managed by the admins of {tenant.name}.</p>
      )}
    </>
  );
}
