import {
  useEffect,
  useId,
  useRef,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
} from 'react';
import { navigationCount } from '../router.tsx';

/**
 * Sets the tab title, and moves focus to the heading after an in-app
 * navigation, unless the page focuses something more useful itself.
 */
export function PageHeading({ children, title, takeFocus = true }: { children: ReactNode; title: string; takeFocus?: boolean }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · JAMS IMES`;
  }, [title]);
  useEffect(() => {
    // On a client-side navigation nothing tells screen readers the page
    // changed; focusing the new heading does, and restarts the tab order.
    if (takeFocus && navigationCount() > 0) ref.current?.focus({ preventScroll: true });
    // Only on arrival: later re-renders must not pull focus back.
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

type TextFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value'> & {
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  /** An inline error shown under the field; marks it invalid. */
  error?: ReactNode;
  inputRef?: Ref<HTMLInputElement>;
  /** Content after the input, on the same line (e.g. a Copy button). */
  trailing?: ReactNode;
};

/** A labelled input with an optional hint and inline error, wired up for assistive tech. */
export function TextField({ label, value, onChange, hint, error, inputRef, trailing, id, className, ...input }: TextFieldProps) {
  const autoId = useId();
  const fieldId = id ?? autoId;
  const hintId = hint ? `${fieldId}-hint` : undefined;
  const errorId = error ? `${fieldId}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${className ? ` ${className}` : ''}`}>
      <label htmlFor={fieldId}>{label}</label>
      {hint && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
      <div className={trailing ? 'input-row' : undefined}>
        <input
          id={fieldId}
          ref={inputRef}
          value={value}
          onChange={(event) => onChange(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          {...input}
        />
        {trailing}
      </div>
      {error && (
        <div className="field-error" id={errorId}>
          {error}
        </div>
      )}
    </div>
  );
}

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  /** Shows a spinner and ignores clicks, keeping the accessible name unchanged. */
  busy?: boolean;
  block?: boolean;
  ref?: Ref<HTMLButtonElement>;
};

export function Button({ variant = 'secondary', busy = false, block = false, className, children, onClick, type = 'button', ...rest }: ButtonProps) {
  const classes = ['btn', `btn-${variant}`, block ? 'btn-block' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <button
      type={type}
      className={classes}
      aria-busy={busy || undefined}
      onClick={(event) => {
        // aria-disabled rather than disabled while busy, so focus stays on the button.
        if (busy) event.preventDefault();
        else onClick?.(event);
      }}
      {...rest}
    >
      {busy && <span className="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}

/** A calm, non-error message: information, success or a warning. */
export function Notice({ tone = 'info', children, live = false, testId }: { tone?: 'info' | 'success' | 'warning'; children: ReactNode; live?: boolean; testId?: string }) {
  return (
    <div className={`notice notice-${tone}`} role={live ? 'status' : undefined} data-testid={testId}>
      {children}
    </div>
  );
}
