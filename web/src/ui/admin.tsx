import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { Button } from './form.tsx';

/** Copies text, falling back to a hidden textarea where the Clipboard API is unavailable (plain http). */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const previous = document.activeElement as HTMLElement | null;
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    previous?.focus();
    return ok;
  }
}

/** A value to hand to someone else (a URL, a token): shown in full, with a Copy button. */
export function CopyValue({
  value,
  label,
  testId,
  hideLabel = false,
}: {
  value: string;
  label: string;
  testId?: string;
  /** When a heading nearby already says what this is. */
  hideLabel?: boolean;
}) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const labelId = useId();
  useEffect(() => {
    if (state !== 'copied') return;
    const timer = setTimeout(() => setState('idle'), 2500);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <div className="copy">
      <span className={hideLabel ? 'sr-only' : 'copy-label'} id={labelId}>
        {label}
      </span>
      <div className="copy-row">
        <code className="copy-value" data-testid={testId} aria-labelledby={labelId} role="textbox" aria-readonly="true" tabIndex={0}>
          {value}
        </code>
        <Button aria-describedby={labelId} onClick={async () => setState((await copyText(value)) ? 'copied' : 'failed')}>
          Copy
        </Button>
      </div>
      <span className="copy-status" role="status">
        {state === 'copied' ? 'Copied to the clipboard.' : state === 'failed' ? 'Could not copy: select the text and copy it yourself.' : ''}
      </span>
    </div>
  );
}

interface ConfirmProps {
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  busy?: boolean;
  tone?: 'danger' | 'primary';
}

/**
 * An inline "are you sure" step. Focus lands on Cancel, the safe choice, and
 * Escape cancels.
 */
export function Confirm({ children, confirmLabel, onConfirm, onCancel, busy = false, tone = 'danger' }: ConfirmProps) {
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => cancelRef.current?.focus(), []);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape' && !busy) {
      event.stopPropagation();
      onCancel();
    }
  };
  return (
    <div className="confirm" role="group" aria-label="Confirm" onKeyDown={onKeyDown}>
      <div className="confirm-text">{children}</div>
      <div className="actions">
        <Button variant={tone} busy={busy} onClick={onConfirm}>
          {confirmLabel}
        </Button>
        <Button ref={cancelRef} onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
      </div>
    </div>
  );
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "12 May 2026, 14:05" in the reader's locale and time zone. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateOnly.format(date);
}

/** "in 6 days", "yesterday", "in 3 hours". */
export function formatRelative(iso: string, now = Date.now()): string {
  const diff = new Date(iso).getTime() - now;
  if (Number.isNaN(diff)) return '';
  const minutes = Math.round(diff / 60_000);
  if (Math.abs(minutes) < 60) return relative.format(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relative.format(hours, 'hour');
  return relative.format(Math.round(hours / 24), 'day');
}

/** A date with its relative form, machine-readable for assistive tech. */
export function When({ iso, withTime = false }: { iso: string; withTime?: boolean }) {
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {withTime ? formatDateTime(iso) : formatDate(iso)}
    </time>
  );
}

/**
 * One labelled value in a <dl className="facts">. The hidden colon makes the
 * row read as "Client Secret: set", for screen readers and text search alike.
 */
export function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <div>
      <dt>
        {label}
        <span className="sr-only">:</span>
      </dt>{' '}
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}
