/**
 * The page's addresses, in the URL's fragment (``#/buckets/b/collections/c``), so that the
 * server serves one page whatever is shown and every view has an address to share or bookmark.
 */

import { useEffect, useState } from "preact/hooks";

export type Route =
  | { name: "home" }
  | { name: "login" }
  | { name: "auth"; method: string; payload: string }
  | { name: "new-bucket" }
  | { name: "bucket"; bid: string; tab: BucketTab }
  | { name: "new-collection"; bid: string }
  | { name: "new-group"; bid: string }
  | { name: "collection"; bid: string; cid: string; tab: CollectionTab }
  | { name: "new-record"; bid: string; cid: string }
  | { name: "record"; bid: string; cid: string; rid: string; tab: ObjectTab }
  | { name: "group"; bid: string; gid: string; tab: ObjectTab }
  | { name: "not-found"; path: string };

export const BUCKET_TABS = ["collections", "groups", "attributes", "permissions", "history"] as const;
export const COLLECTION_TABS = ["records", "attributes", "permissions", "history", "search"] as const;
export const OBJECT_TABS = ["attributes", "permissions", "history"] as const;
export type BucketTab = (typeof BUCKET_TABS)[number];
export type CollectionTab = (typeof COLLECTION_TABS)[number];
export type ObjectTab = (typeof OBJECT_TABS)[number];

function oneOf<T extends string>(tabs: readonly T[], value: string | undefined, fallback: T): T | null {
  if (value === undefined) return fallback;
  return (tabs as readonly string[]).includes(value) ? (value as T) : null;
}

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const notFound: Route = { name: "not-found", path };
  if (parts.length === 0) return { name: "home" };
  if (parts[0] === "login" && parts.length === 1) return { name: "login" };
  const auth = path.match(/^\/auth\/([^/]+)\/(.*)$/);
  if (auth) {
    // The payload is everything after the method, as the provider's flow appended it (base64 may hold slashes).
    return { name: "auth", method: decodeURIComponent(auth[1]), payload: auth[2] };
  }
  if (parts[0] === "new-bucket" && parts.length === 1) return { name: "new-bucket" };
  if (parts[0] !== "buckets" || parts.length < 2) return notFound;
  const bid = parts[1];
  if (parts.length <= 3) {
    if (parts[2] === "new-collection") return { name: "new-collection", bid };
    if (parts[2] === "new-group") return { name: "new-group", bid };
    const tab = oneOf(BUCKET_TABS, parts[2], "collections");
    return tab ? { name: "bucket", bid, tab } : notFound;
  }
  if (parts[2] === "groups" && parts.length <= 5) {
    const tab = oneOf(OBJECT_TABS, parts[4], "attributes");
    return tab ? { name: "group", bid, gid: parts[3], tab } : notFound;
  }
  if (parts[2] !== "collections") return notFound;
  const cid = parts[3];
  if (parts.length <= 5) {
    if (parts[4] === "new-record") return { name: "new-record", bid, cid };
    const tab = oneOf(COLLECTION_TABS, parts[4], "records");
    return tab ? { name: "collection", bid, cid, tab } : notFound;
  }
  if (parts[4] === "records" && parts.length <= 7) {
    const tab = oneOf(OBJECT_TABS, parts[6], "attributes");
    return tab ? { name: "record", bid, cid, rid: parts[5], tab } : notFound;
  }
  return notFound;
}

/** The fragment of a view: ``href(["buckets", bid, "groups"])``. */
export function href(parts: string[]): string {
  return "#/" + parts.map(encodeURIComponent).join("/");
}

export function navigate(parts: string[]): void {
  location.hash = href(parts).slice(1);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return route;
}
