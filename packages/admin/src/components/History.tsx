/** The history of a bucket, or of one object in it (``kinto.plugins.history``), newest first. */

import { paths } from "../api";
import { href } from "../routes";
import { ObjectList, type Column } from "./ObjectList";
import { formatDate } from "./ui";

interface Props {
  bid: string;
  /** Filters of the bucket's history: ``{collection_id: c}``, ``{record_id: r}``, ``{group_id: g}``. */
  filters?: Record<string, string>;
  what: string;
}

const columns: Column[] = [
  { field: "last_modified", label: "When", render: (entry) => formatDate(entry.last_modified) },
  { field: "user_id", label: "Who", render: (entry) => <code>{String(entry.user_id ?? "")}</code> },
  { field: "action", label: "Action", render: (entry) => String(entry.action ?? "") },
  { field: "uri", label: "Object", render: (entry) => <ObjectLink uri={String(entry.uri ?? "")} /> },
  {
    label: "Then",
    render: (entry) => (
      <details>
        <summary>Show</summary>
        <pre class="json">{JSON.stringify(entry.target, null, 2)}</pre>
      </details>
    ),
  },
];

/** An entry's ``uri`` (``/buckets/b/collections/c/records/r``) as a link to the object's page. */
function ObjectLink({ uri }: { uri: string }) {
  const parts = uri.split("/").filter(Boolean);
  return <a href={href(parts)}>{uri}</a>;
}

export function History({ bid, filters, what }: Props) {
  return (
    <ObjectList
      path={paths.history(bid)}
      query={filters}
      columns={columns}
      caption={`History of ${what}`}
      empty="Nothing recorded yet."
    />
  );
}
