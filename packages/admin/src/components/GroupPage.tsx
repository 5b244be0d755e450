/** A group of a bucket: its members (principals), other attributes, permissions and history. */

import { useState } from "preact/hooks";

import { paths, type KintoObject } from "../api";
import { capability, useApp } from "../context";
import { navigate, type ObjectTab } from "../routes";
import { History } from "./History";
import { JsonField } from "./JsonField";
import { PermissionsEditor } from "./PermissionsEditor";
import { IdField, ObjectForm, ReadOnlyNotice, editableData, explainCreate, useSubmit } from "./forms";
import { Breadcrumbs, DeleteButton, ErrorMessage, Loading, PageTitle, Tabs, useLoad } from "./ui";

interface GroupDraft {
  members: string;
  rest: Record<string, unknown>;
}

function draftOf(group: KintoObject | undefined): GroupDraft {
  const { members, ...rest } = editableData(group);
  return { members: Array.isArray(members) ? members.join("\n") : "", rest };
}

function dataOf(draft: GroupDraft): Record<string, unknown> {
  const members = draft.members.split(/[\s,]+/).filter(Boolean);
  return { ...draft.rest, members };
}

function GroupFields({ draft, onChange, readOnly }: { draft: GroupDraft; onChange: (draft: GroupDraft, valid: boolean) => void; readOnly?: boolean }) {
  return (
    <>
      <div class="field">
        <label for="group-members">Members, one principal per line</label>
        <p class="help" id="group-members-help">
          For example <code>account:bob</code>. Give the group a permission and its members hold it.
        </p>
        <textarea
          id="group-members"
          rows={5}
          spellcheck={false}
          aria-describedby="group-members-help"
          value={draft.members}
          readOnly={readOnly}
          onInput={(event) => onChange({ ...draft, members: (event.target as HTMLTextAreaElement).value }, true)}
        />
      </div>
      <JsonField
        id="group-data"
        label="Other attributes (JSON)"
        rows={5}
        value={draft.rest}
        readOnly={readOnly}
        onChange={(value, ok) => onChange(ok ? { ...draft, rest: value as Record<string, unknown> } : draft, ok)}
      />
    </>
  );
}

export function GroupPage({ bid, gid, tab }: { bid: string; gid: string; tab: ObjectTab }) {
  const { api, server, grants } = useApp();
  const path = paths.group(bid, gid);
  const loaded = useLoad(async () => {
    const group = await api.get(path);
    grants.note(path, group.permissions);
    return group.data;
  }, [api, path]);
  const base = ["buckets", bid, "groups", gid];
  const tabs = [
    { id: "attributes", label: "Attributes", parts: base },
    { id: "permissions", label: "Permissions", parts: [...base, "permissions"] },
  ];
  if (capability(server, "history")) tabs.push({ id: "history", label: "History", parts: [...base, "history"] });
  return (
    <>
      <Breadcrumbs
        crumbs={[
          { label: "Buckets", parts: [] },
          { label: bid, parts: ["buckets", bid] },
          { label: "Groups", parts: ["buckets", bid, "groups"] },
          { label: gid, parts: base },
        ]}
      />
      <PageTitle>Group {gid}</PageTitle>
      <Tabs tabs={tabs} current={tab} />
      {tab === "attributes" &&
        (loaded.loading && !loaded.value ? (
          <Loading what="the group" />
        ) : !loaded.value ? (
          <ErrorMessage error={loaded.error} />
        ) : (
          <EditGroup key={loaded.value.last_modified} bid={bid} group={loaded.value} onSaved={loaded.reload} />
        ))}
      {tab === "permissions" && <PermissionsEditor kind="group" bid={bid} path={path} />}
      {tab === "history" && <History bid={bid} filters={{ group_id: gid }} what={`group ${gid}`} />}
    </>
  );
}

function EditGroup({ bid, group, onSaved }: { bid: string; group: KintoObject; onSaved: () => void }) {
  const { api, grants, refresh, notify } = useApp();
  const path = paths.group(bid, group.id);
  const [draft, setDraft] = useState(() => draftOf(group));
  const [valid, setValid] = useState(true);
  const writable = grants.can(path, "write");
  const form = useSubmit(async () => {
    if (!valid) throw new Error("The attributes are not valid JSON.");
    await api.replace(path, dataOf(draft), { ifMatch: group.last_modified });
    notify(`Group ${group.id} saved.`);
    onSaved();
    await refresh();
  });
  return (
    <>
      {!writable && <ReadOnlyNotice what="group" />}
      <ObjectForm label={`Group ${group.id}`} submitLabel="Save group" readOnly={!writable} busy={form.busy} error={form.error} onSubmit={form.submit}>
        <GroupFields
          draft={draft}
          readOnly={!writable}
          onChange={(next, ok) => {
            setDraft(next);
            setValid(ok);
          }}
        />
      </ObjectForm>
      {writable && (
        <DeleteButton
          what={`group ${group.id}`}
          onConfirm={async () => {
            await api.delete(path, group.last_modified);
            navigate(["buckets", bid, "groups"]);
            notify(`Group ${group.id} deleted.`);
            await refresh();
          }}
        />
      )}
    </>
  );
}

export function NewGroup({ bid }: { bid: string }) {
  const { api, refresh, notify } = useApp();
  const [id, setId] = useState("");
  const [draft, setDraft] = useState(() => draftOf(undefined));
  const [valid, setValid] = useState(true);
  const form = useSubmit(async () => {
    if (!valid) throw new Error("The attributes are not valid JSON.");
    try {
      await api.replace(paths.group(bid, id), dataOf(draft), { createOnly: true });
    } catch (failure) {
      throw explainCreate(failure, "group", id);
    }
    navigate(["buckets", bid, "groups", id]);
    notify(`Group ${id} created.`);
    await refresh();
  });
  return (
    <>
      <Breadcrumbs crumbs={[{ label: "Buckets", parts: [] }, { label: bid, parts: ["buckets", bid] }, { label: "New group" }]} />
      <PageTitle>Create a group in {bid}</PageTitle>
      <ObjectForm label="New group" submitLabel="Create group" busy={form.busy} error={form.error} onSubmit={form.submit}>
        <IdField what="Group" value={id} onInput={setId} />
        <GroupFields
          draft={draft}
          onChange={(next, ok) => {
            setDraft(next);
            setValid(ok);
          }}
        />
      </ObjectForm>
    </>
  );
}
