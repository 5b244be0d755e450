/** The buckets the user may read, and those where something was shared with them. */

import { paths } from "../api";
import { useApp } from "../context";
import { href } from "../routes";
import { ObjectList, lastModifiedColumn } from "./ObjectList";
import { PageTitle } from "./ui";

export function HomePage() {
  const { grants, tree } = useApp();
  return (
    <>
      <PageTitle>Buckets</PageTitle>
      {grants.canCreateBuckets() && (
        <p>
          <a class="button" href={href(["new-bucket"])}>
            Create bucket
          </a>
        </p>
      )}
      <ObjectList
        path={paths.buckets()}
        caption="Buckets you may read"
        empty="You may read no bucket."
        columns={[
          { field: "id", label: "Id", render: (bucket) => <a href={href(["buckets", bucket.id])}>{bucket.id}</a> },
          lastModifiedColumn(),
        ]}
      />
      <SharedWithMe buckets={tree.buckets} />
    </>
  );
}

/** Collections shared with the user in buckets they cannot read themselves. */
function SharedWithMe({ buckets }: { buckets: Map<string, string[]> }) {
  const { grants } = useApp();
  const shared = [...buckets.entries()].filter(([bid]) => !grants.can(paths.bucket(bid), "read"));
  if (!grants.complete || shared.length === 0) return null;
  return (
    <section aria-labelledby="shared-title">
      <h2 id="shared-title">Shared with you in other buckets</h2>
      <ul>
        {shared.map(([bid, collections]) => (
          <li key={bid}>
            <a href={href(["buckets", bid])}>{bid}</a>
            {collections.length > 0 && (
              <>
                {": "}
                {collections.map((cid, index) => (
                  <span key={cid}>
                    {index > 0 && ", "}
                    <a href={href(["buckets", bid, "collections", cid])}>{cid}</a>
                  </span>
                ))}
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
