/**
 * A record form generated from the collection's JSON schema.
 *
 * Objects become fieldsets, strings text inputs (email, url, date and long text get their own
 * inputs), numbers number inputs, booleans check boxes, ``enum`` a select (check boxes for an
 * array of unique choices), arrays a list with add and remove buttons. A part of the schema the
 * form cannot show (``oneOf``, ``$ref``, no type...) is edited as JSON, in place. Empty inputs
 * leave the field out, so that the server's validation names what is required. The server
 * validates: the form shows its answer beside the fields it names.
 */

import type { ComponentChildren } from "preact";

import type { ErrorDetail } from "../api";
import { JsonField } from "./JsonField";

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  uniqueItems?: boolean;
  [keyword: string]: unknown;
}

type Value = unknown;

/** Whether the schema describes objects with named fields: the only kind of record schema a form can show. */
export function formSupported(schema: unknown): schema is JsonSchema {
  if (!schema || typeof schema !== "object") return false;
  const candidate = schema as JsonSchema;
  return typeOf(candidate) === "object" && !!candidate.properties && Object.keys(candidate.properties).length > 0;
}

/** The schema's defaults, for a new record. */
export function defaultsOf(schema: JsonSchema): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (property.default !== undefined) value[name] = property.default;
    else if (typeOf(property) === "object" && property.properties) value[name] = defaultsOf(property);
  }
  return value;
}

function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== "null");
  if (schema.type) return schema.type;
  if (schema.properties) return "object";
  return undefined;
}

interface FormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  errors: ErrorDetail[];
  readOnly?: boolean;
}

export function SchemaForm({ schema, value, onChange, errors, readOnly }: FormProps) {
  return (
    <div class="schema-form">
      <ObjectFields
        schema={schema}
        path={[]}
        value={value}
        onChange={(next) => onChange((next as Record<string, unknown>) ?? {})}
        errors={errors}
        readOnly={readOnly}
      />
    </div>
  );
}

interface FieldProps {
  schema: JsonSchema;
  path: string[];
  value: Value;
  onChange: (value: Value) => void;
  errors: ErrorDetail[];
  readOnly?: boolean;
  required?: boolean;
  label?: string;
}

function fieldId(path: string[]): string {
  return "field-" + path.map((part) => part.replace(/[^A-Za-z0-9_-]/g, "_")).join("-");
}

/** The server's messages for this field (it names fields ``title``, or ``data.title``, or ``address.city``). */
function errorsAt(errors: ErrorDetail[], path: string[]): string[] {
  const dotted = path.join(".");
  return errors
    .filter((detail) => detail.name === dotted || detail.name === `data.${dotted}`)
    .map((detail) => detail.description ?? "");
}

function ObjectFields({ schema, path, value, onChange, errors, readOnly }: FieldProps) {
  const current = (value && typeof value === "object" && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
  const required = new Set(schema.required ?? []);
  const change = (name: string, next: Value) => {
    const updated = { ...current };
    if (next === undefined) delete updated[name];
    else updated[name] = next;
    onChange(updated);
  };
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([name, property]) => (
        <Field
          key={name}
          schema={property}
          path={[...path, name]}
          label={property.title ?? name}
          required={required.has(name)}
          value={current[name]}
          onChange={(next) => change(name, next)}
          errors={errors}
          readOnly={readOnly}
        />
      ))}
    </>
  );
}

function Field(props: FieldProps) {
  const { schema, path, label, required, errors } = props;
  const id = fieldId(path);
  const messages = errorsAt(errors, path);
  const help = schema.description ? `${id}-help` : "";
  const problem = messages.length ? `${id}-problem` : "";
  const describedBy = [help, problem].filter(Boolean).join(" ") || undefined;
  const type = typeOf(schema);
  const caption = (
    <>
      {label}
      {required && (
        <span class="required" aria-hidden="true">
          {" "}
          *
        </span>
      )}
    </>
  );
  const footer = (
    <>
      {schema.description && (
        <p class="help" id={help}>
          {schema.description}
        </p>
      )}
      {messages.map((message) => (
        <p class="field-error" id={problem} key={message}>
          {message}
        </p>
      ))}
    </>
  );

  if (type === "object" && schema.properties) {
    return (
      <fieldset class="field-group" aria-describedby={describedBy}>
        <legend>{caption}</legend>
        {footer}
        <ObjectFields {...props} />
      </fieldset>
    );
  }
  if (type === "array" && schema.items?.enum && schema.uniqueItems) {
    return <ChoicesField {...props} id={id} caption={caption} footer={footer} describedBy={describedBy} />;
  }
  if (type === "array" && schema.items && (typeOf(schema.items) || schema.items.enum)) {
    return <ArrayField {...props} id={id} caption={caption} footer={footer} describedBy={describedBy} />;
  }
  const input = <Input {...props} id={id} describedBy={describedBy} invalid={messages.length > 0} />;
  if (!input) {
    return (
      <div class="field">
        <JsonField
          id={id}
          label={label ?? path.join(".")}
          value={props.value ?? null}
          rows={4}
          help={`${schema.description ? schema.description + " " : ""}(edited as JSON)`}
          readOnly={props.readOnly}
          onChange={(next, valid) => valid && props.onChange(next === null ? undefined : next)}
        />
        {messages.map((message) => (
          <p class="field-error" key={message}>
            {message}
          </p>
        ))}
      </div>
    );
  }
  if (type === "boolean" && !schema.enum) {
    return (
      <div class="field checkbox">
        {input}
        <label for={id}>{caption}</label>
        {footer}
      </div>
    );
  }
  return (
    <div class="field">
      <label for={id}>{caption}</label>
      {input}
      {footer}
    </div>
  );
}

interface InputProps extends FieldProps {
  id: string;
  describedBy?: string;
  invalid: boolean;
}

/** The input of a single value, or null when the schema needs the JSON editor. */
function Input({ schema, value, onChange, id, describedBy, invalid, readOnly, required }: InputProps) {
  const common = {
    id,
    "aria-describedby": describedBy,
    "aria-invalid": invalid ? ("true" as const) : undefined,
    "aria-required": required ? ("true" as const) : undefined,
    disabled: readOnly,
  };
  if (schema.enum) {
    const index = schema.enum.findIndex((choice) => JSON.stringify(choice) === JSON.stringify(value));
    return (
      <select
        {...common}
        value={index >= 0 ? String(index) : ""}
        onChange={(event) => {
          const picked = (event.target as HTMLSelectElement).value;
          onChange(picked === "" ? undefined : schema.enum![Number(picked)]);
        }}
      >
        <option value="">— choose —</option>
        {schema.enum.map((choice, position) => (
          <option key={position} value={String(position)}>
            {typeof choice === "string" ? choice : JSON.stringify(choice)}
          </option>
        ))}
      </select>
    );
  }
  switch (typeOf(schema)) {
    case "string": {
      const text = typeof value === "string" ? value : "";
      const set = (next: string) => onChange(next === "" ? undefined : next);
      if (schema.format === "textarea" || (schema.maxLength ?? 0) > 200) {
        return <textarea {...common} rows={5} value={text} onInput={(event) => set((event.target as HTMLTextAreaElement).value)} />;
      }
      const inputTypes: Record<string, "email" | "url" | "date" | "color"> = { email: "email", uri: "url", date: "date", color: "color" };
      const inputType = inputTypes[schema.format ?? ""] ?? "text";
      return (
        <input
          {...common}
          type={inputType as "text"}
          value={text}
          maxLength={schema.maxLength}
          onInput={(event) => set((event.target as HTMLInputElement).value)}
        />
      );
    }
    case "number":
    case "integer":
      return (
        <input
          {...common}
          type="number"
          step={typeOf(schema) === "integer" ? 1 : "any"}
          min={schema.minimum}
          max={schema.maximum}
          value={typeof value === "number" ? String(value) : ""}
          onInput={(event) => {
            const text = (event.target as HTMLInputElement).value;
            onChange(text === "" ? undefined : Number(text));
          }}
        />
      );
    case "boolean":
      return (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(event) => onChange((event.target as HTMLInputElement).checked)}
        />
      );
    default:
      return null;
  }
}

interface GroupProps extends FieldProps {
  id: string;
  caption: ComponentChildren;
  footer: ComponentChildren;
  describedBy?: string;
}

function ChoicesField({ schema, value, onChange, id, caption, footer, describedBy, readOnly }: GroupProps) {
  const chosen = Array.isArray(value) ? value : [];
  const choices = schema.items!.enum!;
  const toggle = (choice: unknown, on: boolean) => {
    const rest = chosen.filter((item) => JSON.stringify(item) !== JSON.stringify(choice));
    const next = on ? choices.filter((item) => item === choice || rest.some((kept) => JSON.stringify(kept) === JSON.stringify(item))) : rest;
    onChange(next.length ? next : undefined);
  };
  return (
    <fieldset class="field-group choices" aria-describedby={describedBy}>
      <legend>{caption}</legend>
      {choices.map((choice, index) => (
        <div class="field checkbox" key={index}>
          <input
            type="checkbox"
            id={`${id}-${index}`}
            disabled={readOnly}
            checked={chosen.some((item) => JSON.stringify(item) === JSON.stringify(choice))}
            onChange={(event) => toggle(choice, (event.target as HTMLInputElement).checked)}
          />
          <label for={`${id}-${index}`}>{typeof choice === "string" ? choice : JSON.stringify(choice)}</label>
        </div>
      ))}
      {footer}
    </fieldset>
  );
}

function ArrayField({ schema, path, value, onChange, caption, footer, describedBy, errors, readOnly, label }: GroupProps) {
  const items = Array.isArray(value) ? value : [];
  const itemSchema = schema.items!;
  const set = (index: number, next: Value) => {
    const updated = [...items];
    updated[index] = next;
    onChange(updated);
  };
  const remove = (index: number) => {
    const updated = items.filter((_, position) => position !== index);
    onChange(updated.length ? updated : undefined);
  };
  const add = () => onChange([...items, itemSchema.default ?? (typeOf(itemSchema) === "object" ? {} : undefined)]);
  return (
    <fieldset class="field-group array" aria-describedby={describedBy}>
      <legend>{caption}</legend>
      {footer}
      {items.map((item, index) => (
        <div class="array-item" key={index}>
          <Field
            schema={itemSchema}
            path={[...path, String(index)]}
            label={`${itemSchema.title ?? label ?? "Item"} ${index + 1}`}
            value={item}
            onChange={(next) => set(index, next)}
            errors={errors}
            readOnly={readOnly}
          />
          {!readOnly && (
            <button type="button" class="secondary" onClick={() => remove(index)}>
              Remove {label} {index + 1}
            </button>
          )}
        </div>
      ))}
      {!readOnly && (
        <button type="button" class="secondary" onClick={add}>
          Add to {label}
        </button>
      )}
    </fieldset>
  );
}
