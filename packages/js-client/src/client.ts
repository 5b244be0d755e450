/**
 * The entry point: `new Client({server, store})`, then `client.resource('/articles')` for any
 * kinto.core resource, or `client.bucket(b).collection(c)` for the Kinto HTTP API.
 */
import { Emitter } from "./events.js";
import { HttpClient, type HttpEvents, type HttpOptions } from "./http.js";
import { Resource } from "./resource.js";
import { LocalForageStore } from "./stores/localforage.js";
import { MemoryStore } from "./stores/memory.js";
import { isLocalForageLike, isStore, type LocalForageLike, type Store } from "./stores/index.js";

export interface ClientOptions extends HttpOptions {
  /** A `Store`, or a localforage-compatible object (default: a `MemoryStore`, nothing persists). */
  store?: Store | LocalForageLike;
}

/** What the server's root (`GET /v1/`) says; only the fields the client reads are typed. */
export interface ServerInfo {
  project_name?: string;
  http_api_version?: string;
  settings?: { batch_max_requests?: number; readonly?: boolean };
  capabilities?: Record<string, unknown>;
  [key: string]: unknown;
}

const DEFAULT_BATCH_SIZE = 25;

export class Client {
  readonly http: HttpClient;
  readonly store: Store;
  readonly events = new Emitter<HttpEvents>();
  private readonly resources = new Map<string, Resource>();
  private info: Promise<ServerInfo> | undefined;

  constructor(options: ClientOptions) {
    this.http = new HttpClient(options, (until) => this.events.emit("backoff", { until }));
    this.store = toStore(options.store);
  }

  /** The resource at `path` below the server root (`/articles`); one instance per path. */
  resource(path: string): Resource {
    const key = "/" + path.replace(/^\/+|\/+$/g, "");
    let resource = this.resources.get(key);
    if (!resource) {
      resource = new Resource({ http: this.http, store: this.store, batchSize: () => this.batchSize() }, key);
      this.resources.set(key, resource);
    }
    return resource;
  }

  /** A bucket of the Kinto HTTP API: `client.bucket("blog").collection("articles")`. */
  bucket(bucketId: string): { collection(collectionId: string): Resource } {
    return {
      collection: (collectionId) =>
        this.resource(`/buckets/${encodeURIComponent(bucketId)}/collections/${encodeURIComponent(collectionId)}/records`),
    };
  }

  /** The server's root document, fetched once (again after a failure). */
  serverInfo(): Promise<ServerInfo> {
    this.info ??= this.http.request<ServerInfo>({ path: "/" }).then(
      (response) => response.body,
      (error: unknown) => {
        this.info = undefined;
        throw error;
      },
    );
    return this.info;
  }

  private async batchSize(): Promise<number> {
    const size = (await this.serverInfo()).settings?.batch_max_requests;
    return typeof size === "number" && size > 0 ? size : DEFAULT_BATCH_SIZE;
  }
}

function toStore(store: ClientOptions["store"]): Store {
  if (store === undefined) return new MemoryStore();
  if (isStore(store)) return store;
  if (isLocalForageLike(store)) return new LocalForageStore(store);
  throw new TypeError("store must be a Store or a localforage-compatible object");
}
