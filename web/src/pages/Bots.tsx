import { useCallback, useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { ErrorNotice } from '../errors.tsx';
import { useMe } from '../shell/session.ts';
import { Confirm, CopyValue, When } from '../ui/admin.tsx';
import { Button, PageHeading, TextField } from '../ui/form.tsx';
import { PageLoading } from '../ui/layout.tsx';

interface Bot {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revoked?: boolean;
}

interface BotCreated {
  bot: Bot;
  token: string;
}

const expiryChoices = [
  { value: '', label: 'Never' },
  { value: '30', label: 'After 30 days' },
  { value: '90', label: 'After 90 days' },
  { value: '365', label: 'After 365 days' },
] as const;

/** `/bots`: API tokens for scripts and services. A token is shown once, at creation. */
export default function Bots() {
  const me = useMe();
  const [bots, setBots] = useState<Bot[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [created, setCreated] = useState<BotCreated | null>(null);
  const [tokenDismissed, setTokenDismissed] = useState(false);
  const createdRef = useRef<HTMLDivElement>(null);

  const reload = useCallback(async () => {
    try {
      setBots((await api<{ bots: Bot[] }>('GET', '/api/bots')).bots);
      setLoadError(null);
    } catch (err) {
      setLoadError(err);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  useEffect(() => {
    if (created) createdRef.current?.focus();
  }, [created]);

  return (
    <>
      <PageHeading title="Bots">Bots</PageHeading>
      <p className="lede">
        A bot is a script or service that calls the API of {me.tenant.name} with its own token. Bots cannot manage members or single
        sign-on, and you can revoke a token at any time.
      </p>

      {created ? (
        <section className="card card-highlight" tabIndex={-1} ref={createdRef}>
          <h2>Token for {created.bot.name}</h2>
          <div className="notice notice-warning">
            <p className="notice-title">Copy this token now. You will not see it again.</p>
            <p>Store it where the bot keeps its secrets. If it is lost, revoke the bot and create a new one.</p>
          </div>
          <CopyValue label="Bot token" value={created.token} testId="bot-token" />
          <p className="hint">The bot sends it on every request:</p>
          <pre className="code-block">
            <code>
              curl -H "Authorization: Bearer $TOKEN" {window.location.origin}/api/me
            </code>
          </pre>
          <div className="actions">
            <Button
              variant="primary"
              onClick={() => {
                setCreated(null);
                setTokenDismissed(true);
              }}
            >
              I have copied the token
            </Button>
          </div>
        </section>
      ) : (
        <CreateBot
          focusOnMount={tokenDismissed}
          onCreated={(result) => {
            setCreated(result);
            void reload();
          }}
        />
      )}

      <section className="section">
        <h2>Bots of {me.tenant.name}</h2>
        {loadError !== null && <ErrorNotice error={loadError} />}
        {!bots && loadError === null && <PageLoading />}
        {bots && bots.length === 0 && <p className="empty">No bots yet. Create one above when a script needs to call the API.</p>}
        {bots && bots.length > 0 && (
          <ul className="rows">
            {bots.map((bot) => (
              <BotRow key={bot.id} bot={bot} onChanged={reload} />
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

function CreateBot({ onCreated, focusOnMount }: { onCreated: (result: BotCreated) => void; focusOnMount: boolean }) {
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState('');
  const [busy, setBusy] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const expiryId = useId();

  useEffect(() => {
    if (focusOnMount) nameRef.current?.focus();
  }, [focusOnMount]);

  async function create(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    if (!name.trim()) {
      setFieldError('Give the bot a name, such as the script or service that will use it.');
      nameRef.current?.focus();
      return;
    }
    setBusy(true);
    setFieldError(null);
    setError(null);
    try {
      const result = await api<BotCreated>('POST', '/api/bots', { name: name.trim(), ...(expiry ? { expiresInDays: Number(expiry) } : {}) });
      onCreated(result);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <section className="card">
      <h2>Create a bot</h2>
      <form className="inline-form" onSubmit={create} noValidate>
        <TextField className="grow" label="Name" name="botName" autoComplete="off" placeholder="e.g. Nightly export" inputRef={nameRef} value={name} onChange={setName} error={fieldError} />
        <div className="field">
          <label htmlFor={expiryId}>Token expires</label>
          <select id={expiryId} value={expiry} onChange={(event) => setExpiry(event.target.value)}>
            {expiryChoices.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-action">
          <Button type="submit" variant="primary" busy={busy}>
            Create bot
          </Button>
        </div>
      </form>
      {error !== null && <ErrorNotice error={error} />}
    </section>
  );
}

function BotRow({ bot, onChanged }: { bot: Bot; onChanged: () => Promise<void> }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const revokeRef = useRef<HTMLButtonElement>(null);
  const rowRef = useRef<HTMLLIElement>(null);
  const whoId = useId();
  const expired = bot.expiresAt !== null && new Date(bot.expiresAt).getTime() < Date.now();
  const usable = !bot.revoked && !expired;

  async function revoke() {
    setBusy(true);
    setError(null);
    try {
      await api('DELETE', `/api/bots/${encodeURIComponent(bot.id)}`);
      setConfirming(false);
      await onChanged();
      // Its Revoke button is gone; keep the keyboard on this bot, now marked revoked.
      requestAnimationFrame(() => rowRef.current?.focus());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <li className={`row${usable ? '' : ' row-inactive'}`} tabIndex={-1} ref={rowRef}>
      <div className="row-main">
        <div className="who" id={whoId}>
          <span className="who-name">{bot.name}</span>
          <span className="who-email">
            Created <When iso={bot.createdAt} />
            {' · '}
            {bot.expiresAt ? (
              <>
                {expired ? 'expired ' : 'expires '}
                <When iso={bot.expiresAt} />
              </>
            ) : (
              'never expires'
            )}
          </span>
        </div>
        <div className="badges">
          {bot.revoked ? (
            <span className="badge badge-muted">Revoked</span>
          ) : expired ? (
            <span className="badge badge-muted">Expired</span>
          ) : (
            <span className="badge badge-success">Active</span>
          )}
        </div>
        {!bot.revoked && !confirming && (
          <div className="row-actions">
            <Button ref={revokeRef} variant="ghost" className="btn-ghost-danger" aria-describedby={whoId} onClick={() => setConfirming(true)}>
              Revoke
            </Button>
          </div>
        )}
      </div>
      {confirming && (
        <Confirm
          confirmLabel="Yes, revoke"
          busy={busy}
          onConfirm={revoke}
          onCancel={() => {
            setConfirming(false);
            requestAnimationFrame(() => revokeRef.current?.focus());
          }}
        >
          <p>Revoke {bot.name}? Requests with its token are refused from now on. This cannot be undone.</p>
        </Confirm>
      )}
      {error !== null && <ErrorNotice error={error} />}
    </li>
  );
}
