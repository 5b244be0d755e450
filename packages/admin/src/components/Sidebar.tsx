/** The buckets and collections the user may see, always at hand (a menu on narrow screens). */

import { useApp } from "../context";
import { href } from "../routes";

export function Sidebar({ open }: { open: boolean }) {
  const { tree, grants } = useApp();
  return (
    <nav id="sidebar" class={open ? "sidebar open" : "sidebar"} aria-label="Buckets and collections">
      <h2>Buckets</h2>
      {grants.canCreateBuckets() && (
        <p>
          <a class="button secondary" href={href(["new-bucket"])}>
            Create bucket
          </a>
        </p>
      )}
      {tree.buckets.size === 0 ? (
        <p class="empty">No bucket to show.</p>
      ) : (
        <ul class="tree">
          {[...tree.buckets.entries()].map(([bid, collections]) => (
            <li key={bid}>
              <a href={href(["buckets", bid])}>{bid}</a>
              {collections.length > 0 && (
                <ul>
                  {collections.map((cid) => (
                    <li key={cid}>
                      <a href={href(["buckets", bid, "collections", cid])}>{cid}</a>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
