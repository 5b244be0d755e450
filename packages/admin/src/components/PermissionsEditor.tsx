/**
 * The permissions of a bucket, collection, group or record: for each kind, everybody, the
 * authenticated users, the bucket's groups, and any other principals (``account:bob``,
 * ``basicauth:…``, ``fxa:…``), one per line. Saved with If-Match, so that a concurrent change is
 * reported, not overwritten.
 */

import { useEffect, useState } from "preact/hooks";

import { paths, type Envelope, type Permissions } from "../api";
import { useApp } from "../context";
import { AUTHENTICATED, EVERYONE, PERMISSION_KINDS, PERMISSION_LABELS, type ResourceKind } from "../permissions";
import { ErrorMessage, Loading, useLoad } from "./ui";

interface Props {
  kind: ResourceKind;
  bid: string;
  /** The object's API path. */
  path: string;
}

export function PermissionsEditor({ kind, bid, path }: Props) {
  const { api, grants, refresh, notify } = useApp();
  const loaded = useLoad(async () => {
    const object = await api.get(path);
    grants.note(path, object.permissions);
    return object;
  }, [api, path]);
  const groups = useLoad(() => api.all(paths.groups(bid)).catch(() => []), [api, bid]);
  const writable = grants.can(path, "write");

  if (loaded.loading && !loaded.value) return <Loading what="the permissions" />;
  if (!loaded.value) return <ErrorMessage error={loaded.error} />;
  if (!loaded.value.permissions || !writable) {
    return (
      <p class="notice">
        Only the users who may write this {kind} see and change its permissions.
      </p>
    );
  }
  return (
    <Editor
      key={loaded.value.data.last_modified}
      kind={kind}
      bid={bid}
      object={loaded.value}
      groupIds={(groups.value ?? []).map((group) => group.id)}
      onSave={async (permissions) => {
        await api.setPermissions(path, permissions, loaded.value!.data.last_modified);
        notify(`Permissions of ${kind} ${loaded.value!.data.id} saved.`);
        loaded.reload();
        await refresh();
      }}
    />
  );
}

interface EditorProps {
  kind: ResourceKind;
  bid: string;
  object: Envelope;
  groupIds: string[];
  onSave: (permissions: Permissions) => Promise<void>;
}

function Editor({ kind, bid, object, groupIds, onSave }: EditorProps) {
  const kinds = PERMISSION_KINDS[kind];
  const groupPrincipal = (gid: string) => paths.group(bid, gid);
  const special = new Set([EVERYONE, AUTHENTICATED, ...groupIds.map(groupPrincipal)]);
  const current = (permission: string) => object.permissions?.[permission] ?? [];
  // The check boxes' principals, and the other principals as typed: joined when saving.
  const [checked, setChecked] = useState<Permissions>(() =>
    Object.fromEntries(kinds.map((permission) => [permission, current(permission).filter((item) => special.has(item))])),
  );
  const [typed, setTyped] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      kinds.map((permission) => [permission, current(permission).filter((item) => !special.has(item)).join("\n")]),
    ),
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setError(null), [object]);

  const toggle = (permission: string, principal: string, on: boolean) => {
    setChecked((previous) => {
      const rest = previous[permission].filter((item) => item !== principal);
      return { ...previous, [permission]: on ? [...rest, principal] : rest };
    });
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    const permissions: Permissions = {};
    for (const permission of kinds) {
      const others = typed[permission].split(/[\s,]+/).filter(Boolean);
      permissions[permission] = [...new Set([...checked[permission], ...others])];
    }
    setBusy(true);
    setError(null);
    try {
      await onSave(permissions);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  const box = (permission: string, id: string, principal: string, label: string) => (
    <div class="field checkbox" key={id}>
      <input
        type="checkbox"
        id={id}
        checked={checked[permission].includes(principal)}
        onChange={(event) => toggle(permission, principal, (event.target as HTMLInputElement).checked)}
      />
      <label for={id}>{label}</label>
    </div>
  );

  return (
    <form class="permissions" onSubmit={submit} aria-label={`Permissions of ${kind} ${object.data.id}`}>
      {kinds.map((permission) => {
        const id = `perm-${permission.replace(":", "-")}`;
        return (
          <fieldset key={permission} class="field-group">
            <legend>{PERMISSION_LABELS[permission] ?? permission}</legend>
            {box(permission, `${id}-everyone`, EVERYONE, `Everyone, logged in or not (${EVERYONE})`)}
            {box(permission, `${id}-authenticated`, AUTHENTICATED, `Every logged-in user (${AUTHENTICATED})`)}
            {groupIds.map((gid) => box(permission, `${id}-group-${gid}`, groupPrincipal(gid), `Members of group ${gid}`))}
            <div class="field">
              <label for={`${id}-principals`}>Other principals, one per line</label>
              <p class="help" id={`${id}-help`}>
                For example <code>account:bob</code>, or the user id a person sees in this page's header once logged in.
              </p>
              <textarea
                id={`${id}-principals`}
                rows={3}
                spellcheck={false}
                aria-describedby={`${id}-help`}
                value={typed[permission]}
                onInput={(event) => {
                  const text = (event.target as HTMLTextAreaElement).value;
                  setTyped((previous) => ({ ...previous, [permission]: text }));
                }}
              />
            </div>
          </fieldset>
        );
      })}
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        Save permissions
      </button>
    </form>
  );
}
