/**
 * What the user may do where: the permission kinds of each level, and the grants of the user,
 * read from ``GET /permissions`` (which expands inherited permissions) when the server has it,
 * and from the ``permissions`` of the objects the page loads otherwise.
 */

import type { Api, Permissions } from "./api";

export type ResourceKind = "bucket" | "collection" | "group" | "record";

export const PERMISSION_KINDS: Record<ResourceKind, string[]> = {
  bucket: ["read", "write", "collection:create", "group:create"],
  collection: ["read", "write", "record:create"],
  group: ["read", "write"],
  record: ["read", "write"],
};

export const PERMISSION_LABELS: Record<string, string> = {
  read: "Read",
  write: "Write",
  "collection:create": "Create collections",
  "group:create": "Create groups",
  "record:create": "Create records",
};

export const EVERYONE = "system.Everyone";
export const AUTHENTICATED = "system.Authenticated";

export interface PermissionEntry {
  uri: string;
  resource_name: string;
  id: string;
  bucket_id?: string;
  collection_id?: string;
  permissions: string[];
}

/** ``/buckets/b/collections/c`` → [``/buckets/b/collections/c``, ``/buckets/b``]: an object and its parents. */
function lineage(uri: string): string[] {
  const parts = uri.split("/").filter(Boolean);
  const uris: string[] = [];
  for (let end = parts.length; end >= 2; end -= 2) uris.push("/" + parts.slice(0, end).join("/"));
  return uris;
}

export class Grants {
  private readonly byUri = new Map<string, Set<string>>();
  readonly principals: Set<string>;
  readonly readonlyServer: boolean;
  /** True when ``GET /permissions`` told every grant: what it does not list is not granted. */
  readonly complete: boolean;

  constructor(principals: string[], readonlyServer: boolean, entries: PermissionEntry[] | null) {
    this.principals = new Set(principals);
    this.readonlyServer = readonlyServer;
    this.complete = entries !== null;
    for (const entry of entries ?? []) this.grant(entry.uri, entry.permissions);
  }

  static async load(api: Api, principals: string[], readonlyServer: boolean, hasEndpoint: boolean): Promise<Grants> {
    const entries = hasEndpoint && principals.length > 1 ? await api.all<PermissionEntry>("/permissions") : null;
    return new Grants(principals, readonlyServer, entries);
  }

  private grant(uri: string, permissions: Iterable<string>): void {
    const known = this.byUri.get(uri) ?? new Set<string>();
    for (const permission of permissions) known.add(permission);
    this.byUri.set(uri, known);
  }

  /** Learn from an object's ``permissions`` (shown to those who may write it). */
  note(uri: string, permissions: Permissions | undefined): void {
    if (!permissions) return;
    const mine = Object.entries(permissions)
      .filter(([, principals]) => principals.some((principal) => this.principals.has(principal)))
      .map(([permission]) => permission);
    this.grant(uri, mine);
  }

  /** Whether the user holds ``permission`` on ``uri`` (write on it or on a parent grants everything). */
  can(uri: string, permission: string): boolean {
    if (this.readonlyServer && permission !== "read") return false;
    const [own, ...parents] = lineage(uri);
    const ownGrants = this.byUri.get(own ?? "/");
    if (ownGrants?.has(permission) || ownGrants?.has("write")) return true;
    return parents.some((parent) => this.byUri.get(parent)?.has("write"));
  }

  /** Buckets may be created: told by ``GET /permissions``, else assumed for a logged-in user (the server decides). */
  canCreateBuckets(): boolean {
    if (this.readonlyServer) return false;
    if (this.complete) return this.byUri.get("/")?.has("bucket:create") ?? false;
    return this.principals.has(AUTHENTICATED);
  }
}
