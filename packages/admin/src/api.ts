/**
 * The Kinto HTTP API, called with fetch from the page's own origin.
 *
 * Every failure becomes an ApiError carrying the server's error body (code, errno,
 * error, message, details) when there is one, so that the page can say what went wrong.
 */

export type Permissions = Record<string, string[]>;

export interface KintoObject {
  id: string;
  last_modified: number;
  [field: string]: unknown;
}

export interface Envelope<T = KintoObject> {
  data: T;
  permissions?: Permissions;
}

export interface ErrorDetail {
  location?: string;
  name?: string;
  description?: string;
}

export interface ErrorBody {
  code: number;
  errno: number;
  error: string;
  message?: string;
  details?: unknown;
  info?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody | null;

  constructor(status: number, body: ErrorBody | null, message: string) {
    super(message);
    this.status = status;
    this.body = body;
  }

  /** The fields named by a 400's details, as the server names them (``title``, ``data.title``). */
  get fieldErrors(): ErrorDetail[] {
    const details = this.body?.details;
    return Array.isArray(details) ? (details as ErrorDetail[]) : [];
  }
}

export interface Page<T = KintoObject> {
  items: T[];
  /** The URL of the next page (the server's ``Next-Page`` header), or null on the last one. */
  next: string | null;
}

export interface ListOptions {
  /** ``_sort``: fields, ``-`` first for descending. */
  sort?: string;
  limit?: number;
  /** Other query parameters: filters (``collection_id``, ``action``), ``q``... */
  query?: Record<string, string>;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string>;
  /** The ``last_modified`` the change is based on: sent as ``If-Match``, so that nobody's change is lost. */
  ifMatch?: number;
  /** Create only (``If-None-Match: *``): a 412 when the object exists. */
  createOnly?: boolean;
}

export interface ServerInfo {
  project_name: string;
  project_version: string;
  http_api_version: string;
  url: string;
  settings: { readonly?: boolean; batch_max_requests?: number; [name: string]: unknown };
  capabilities: Record<string, Record<string, unknown>>;
  user?: { id: string; principals?: string[] };
}

export class Api {
  /** ``/v1`` (no trailing slash): paths given to the methods start with ``/``. */
  readonly root: string;
  private readonly authorization: string | null;

  constructor(root: string, authorization: string | null) {
    this.root = root.replace(/\/+$/, "");
    this.authorization = authorization;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ json: T; headers: Headers }> {
    const url = this.url(path, options.query);
    return this.send<T>(method, url, options);
  }

  serverInfo(): Promise<ServerInfo> {
    return this.request<ServerInfo>("GET", "/").then((answer) => answer.json);
  }

  get<T = KintoObject>(path: string): Promise<Envelope<T>> {
    return this.request<Envelope<T>>("GET", path).then((answer) => answer.json);
  }

  create(path: string, data: Record<string, unknown>, permissions?: Permissions): Promise<Envelope> {
    const body: Record<string, unknown> = { data };
    if (permissions) body.permissions = permissions;
    return this.request<Envelope>("POST", path, { body }).then((answer) => answer.json);
  }

  /** Replace the data of an object (PUT keeps its permissions when none are given). */
  replace(path: string, data: Record<string, unknown>, options: { ifMatch?: number; createOnly?: boolean } = {}): Promise<Envelope> {
    return this.request<Envelope>("PUT", path, { body: { data }, ...options }).then((answer) => answer.json);
  }

  /** Replace the given permissions of an object (each kind named is replaced as a whole). */
  setPermissions(path: string, permissions: Permissions, ifMatch?: number): Promise<Envelope> {
    return this.request<Envelope>("PATCH", path, { body: { permissions }, ifMatch }).then((answer) => answer.json);
  }

  delete(path: string, ifMatch?: number): Promise<Envelope> {
    return this.request<Envelope>("DELETE", path, { ifMatch }).then((answer) => answer.json);
  }

  async list<T = KintoObject>(path: string, options: ListOptions = {}): Promise<Page<T>> {
    const query: Record<string, string> = { ...(options.query ?? {}) };
    if (options.sort) query._sort = options.sort;
    if (options.limit) query._limit = String(options.limit);
    return this.page<T>(this.url(path, query));
  }

  /** The page at ``url``: a ``Next-Page`` URL given by the server. */
  async page<T = KintoObject>(url: string): Promise<Page<T>> {
    const { json, headers } = await this.send<{ data: T[] }>("GET", url, {});
    return { items: json.data, next: headers.get("Next-Page") };
  }

  /** Every object of a list, following ``Next-Page`` (up to ``max`` objects). */
  async all<T = KintoObject>(path: string, options: ListOptions = {}, max = 10000): Promise<T[]> {
    let page = await this.list<T>(path, options);
    const items = [...page.items];
    while (page.next && items.length < max) {
      page = await this.page<T>(page.next);
      items.push(...page.items);
    }
    return items;
  }

  private url(path: string, query?: Record<string, string>): string {
    const search = query && Object.keys(query).length ? "?" + new URLSearchParams(query).toString() : "";
    return this.root + path + search;
  }

  private async send<T>(method: string, url: string, options: RequestOptions): Promise<{ json: T; headers: Headers }> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.authorization) headers.Authorization = this.authorization;
    if (options.ifMatch !== undefined) headers["If-Match"] = `"${options.ifMatch}"`;
    if (options.createOnly) headers["If-None-Match"] = "*";
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, credentials: "omit" });
    } catch {
      throw new ApiError(0, null, `Cannot reach the server at ${url}.`);
    }
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      throw errorFrom(response, json);
    }
    return { json: json as T, headers: response.headers };
  }
}

function errorFrom(response: Response, json: unknown): ApiError {
  const body = isErrorBody(json) ? json : null;
  const message = body?.message || body?.error || response.statusText || `HTTP ${response.status}`;
  return new ApiError(response.status, body, message);
}

function isErrorBody(json: unknown): json is ErrorBody {
  return typeof json === "object" && json !== null && "code" in json && "errno" in json;
}

/** Paths of the API, built from ids (ids are URL-safe by the server's rules, but encoded all the same). */
export const paths = {
  buckets: () => "/buckets",
  bucket: (bid: string) => `/buckets/${encodeURIComponent(bid)}`,
  collections: (bid: string) => `${paths.bucket(bid)}/collections`,
  collection: (bid: string, cid: string) => `${paths.collections(bid)}/${encodeURIComponent(cid)}`,
  groups: (bid: string) => `${paths.bucket(bid)}/groups`,
  group: (bid: string, gid: string) => `${paths.groups(bid)}/${encodeURIComponent(gid)}`,
  records: (bid: string, cid: string) => `${paths.collection(bid, cid)}/records`,
  record: (bid: string, cid: string, rid: string) => `${paths.records(bid, cid)}/${encodeURIComponent(rid)}`,
  history: (bid: string) => `${paths.bucket(bid)}/history`,
  search: (bid: string, cid: string) => `${paths.collection(bid, cid)}/search`,
};
