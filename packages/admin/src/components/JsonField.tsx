/** A labelled text area holding JSON, which says when the text is not valid JSON. */

import { useEffect, useState } from "preact/hooks";

interface Props {
  id: string;
  label: string;
  value: unknown;
  /** Called with the parsed value whenever the text is valid JSON; ``valid`` false while it is not. */
  onChange: (value: unknown, valid: boolean) => void;
  rows?: number;
  help?: string;
  readOnly?: boolean;
}

export function JsonField({ id, label, value, onChange, rows = 12, help, readOnly }: Props) {
  const [text, setText] = useState(() => pretty(value));
  const [problem, setProblem] = useState<string | null>(null);

  // A new value from outside (another object loaded, the form edited) replaces the text.
  useEffect(() => {
    try {
      if (JSON.stringify(JSON.parse(text)) === JSON.stringify(value)) return;
    } catch {
      // The text is being edited and is not JSON yet: replace it only if the value changed.
    }
    setText(pretty(value));
    setProblem(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [JSON.stringify(value)]);

  const edit = (next: string) => {
    setText(next);
    try {
      const parsed = next.trim() === "" ? {} : JSON.parse(next);
      setProblem(null);
      onChange(parsed, true);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : "Invalid JSON");
      onChange(value, false);
    }
  };

  const describedBy = [help ? `${id}-help` : "", problem ? `${id}-problem` : ""].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {help && (
        <p class="help" id={`${id}-help`}>
          {help}
        </p>
      )}
      <textarea
        id={id}
        class="json"
        rows={rows}
        spellcheck={false}
        value={text}
        readOnly={readOnly}
        aria-invalid={problem ? "true" : undefined}
        aria-describedby={describedBy || undefined}
        onInput={(event) => edit((event.target as HTMLTextAreaElement).value)}
      />
      {problem && (
        <p class="field-error" id={`${id}-problem`}>
          Not valid JSON: {problem}
        </p>
      )}
    </div>
  );
}

function pretty(value: unknown): string {
  return JSON.stringify(value ?? {}, null, 2);
}
