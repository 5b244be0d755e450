/** What every create and edit form shares: the id field, the submit state, the attributes without their bookkeeping. */

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

import { ApiError, type KintoObject } from "../api";
import { ErrorMessage } from "./ui";

/** The fields the server manages itself: never edited in a form. */
export function editableData(object: KintoObject | undefined): Record<string, unknown> {
  if (!object) return {};
  const { id: _id, last_modified: _lastModified, ...rest } = object;
  return rest;
}

export function useSubmit(action: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event?: Event) => {
    event?.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit, setError };
}

/** A create-only PUT refused because the id is taken: said as such (the server answers 412). */
export function explainCreate(error: unknown, what: string, id: string): unknown {
  if (error instanceof ApiError && error.status === 412) {
    return new Error(`A ${what} with the id “${id}” already exists.`);
  }
  return error;
}

export function IdField({ value, onInput, what, optional }: { value: string; onInput: (id: string) => void; what: string; optional?: boolean }) {
  return (
    <div class="field">
      <label for="object-id">
        {what} id{optional ? " (optional)" : ""}
      </label>
      <p class="help" id="object-id-help">
        Letters, digits, <code>-</code> and <code>_</code>
        {optional ? "; left empty, the server picks one." : "."}
      </p>
      <input
        id="object-id"
        required={!optional}
        pattern="[A-Za-z0-9][A-Za-z0-9_\-]*"
        aria-describedby="object-id-help"
        value={value}
        onInput={(event) => onInput((event.target as HTMLInputElement).value)}
      />
    </div>
  );
}

interface FormProps {
  label: string;
  busy: boolean;
  error: unknown;
  onSubmit: (event: Event) => void;
  submitLabel: string;
  readOnly?: boolean;
  children: ComponentChildren;
}

export function ObjectForm({ label, busy, error, onSubmit, submitLabel, readOnly, children }: FormProps) {
  return (
    <form aria-label={label} onSubmit={onSubmit} class="object-form">
      {children}
      <ErrorMessage error={error} />
      {!readOnly && (
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
      )}
    </form>
  );
}

export function ReadOnlyNotice({ what }: { what: string }) {
  return (
    <p class="notice" role="note">
      You may read this {what} but not change it.
    </p>
  );
}
