/** Small pieces every view uses: errors, tabs, breadcrumbs, loading and the data hook. */

import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { ApiError } from "../api";
import { href } from "../routes";

/** A failure as the user should read it: the server's message, its status and errno, and the fields at fault. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  if (!(error instanceof ApiError)) {
    return (
      <div class="error" role="alert">
        <p>{error instanceof Error ? error.message : String(error)}</p>
      </div>
    );
  }
  const body = error.body;
  return (
    <div class="error" role="alert">
      <p>
        <strong>{explain(error)}</strong>
      </p>
      {body ? (
        <p class="error-meta">
          {body.code} {body.error}
          {body.message && body.message !== explain(error) ? ` — ${body.message}` : ""} (errno {body.errno})
        </p>
      ) : error.status ? (
        <p class="error-meta">HTTP {error.status}</p>
      ) : null}
      {error.fieldErrors.length > 0 && (
        <ul>
          {error.fieldErrors.map((detail, index) => (
            <li key={index}>
              {detail.name ? <code>{detail.name}</code> : null} {detail.description}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** What a status means for the person in front of the page. */
function explain(error: ApiError): string {
  switch (error.status) {
    case 0:
      return error.message;
    case 401:
      return "You need to log in to do this (or your login has expired).";
    case 403:
      return "You are not allowed to do this.";
    case 404:
      return "This object does not exist (or was deleted).";
    case 409:
      return "An object with this id already exists.";
    case 412:
      return "This object was changed by someone else since you loaded it: reload it, then make your change again.";
    case 400:
      return error.fieldErrors.length ? "The server refused some values:" : error.message;
    case 503:
      return "The server is unavailable for now: try again in a moment.";
    default:
      return error.message;
  }
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

export interface Crumb {
  label: string;
  parts?: string[];
}

export function Breadcrumbs({ crumbs }: { crumbs: Crumb[] }) {
  return (
    <nav aria-label="Breadcrumb" class="breadcrumbs">
      <ol>
        {crumbs.map((crumb, index) => (
          <li key={index}>
            {crumb.parts && index < crumbs.length - 1 ? (
              <a href={href(crumb.parts)}>{crumb.label}</a>
            ) : (
              <span aria-current={index === crumbs.length - 1 ? "page" : undefined}>{crumb.label}</span>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

export interface Tab {
  id: string;
  label: string;
  parts: string[];
}

export function Tabs({ tabs, current }: { tabs: Tab[]; current: string }) {
  return (
    <nav aria-label="Sections" class="tabs">
      <ul>
        {tabs.map((tab) => (
          <li key={tab.id}>
            <a href={href(tab.parts)} aria-current={tab.id === current ? "page" : undefined}>
              {tab.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** The page's heading: focused when the view changes, so that screen readers announce the new view. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [children]);
  return (
    <h1 tabIndex={-1} ref={heading}>
      {children}
    </h1>
  );
}

export interface Loaded<T> {
  value: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Run ``load`` when ``keys`` change; the last answer wins. */
export function useLoad<T>(load: () => Promise<T>, keys: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ value: T | undefined; error: unknown; loading: boolean }>({
    value: undefined,
    error: null,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    load().then(
      (value) => current && setState({ value, error: null, loading: false }),
      (error: unknown) => current && setState({ value: undefined, error, loading: false }),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...keys, generation]);
  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

export function formatDate(timestamp: unknown): string {
  if (typeof timestamp !== "number") return "";
  return new Date(timestamp).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** A button that asks before doing something that cannot be undone. */
export function DeleteButton({ what, onConfirm }: { what: string; onConfirm: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const click = async () => {
    if (!window.confirm(`Delete ${what}? This cannot be undone.`)) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return (
    <div class="danger-zone">
      <button type="button" class="danger" onClick={click} disabled={busy}>
        Delete {what}
      </button>
      <ErrorMessage error={error} />
    </div>
  );
}
