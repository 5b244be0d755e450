/**
 * @kinto-core/client: offline-first resources of kinto.core services and of the Kinto HTTP API.
 *
 * ```js
 * import * as kinto from "@kinto-core/client";
 * const client = new kinto.Client({ server: "https://api.server.com", store: localforage });
 * const articles = client.resource("/articles");
 * ```
 */
export { Client, type ClientOptions, type ServerInfo } from "./client.js";
export { Resource, type ListOptions, type ResourceEvents } from "./resource.js";
export {
  SyncStrategy,
  type ChangeEvent,
  type Conflict,
  type Strategy,
  type SyncError,
  type SyncOptions,
  type SyncResult,
} from "./sync.js";
export { HttpClient, type Auth, type HttpOptions, type HttpResponse } from "./http.js";
export {
  BackoffError,
  InvalidQueryError,
  LocalRecordError,
  NetworkError,
  ServerError,
  ServerWasFlushedError,
  type ServerErrorBody,
} from "./errors.js";
export { compileFilters, compileSort, type Filters, type SortSpec } from "./filter.js";
export type { RemoteRecord } from "./records.js";
export { MemoryStore } from "./stores/memory.js";
export { LocalForageStore } from "./stores/localforage.js";
export { IndexedDBStore, type IndexedDBStoreOptions } from "./stores/indexeddb.js";
export type { Plan } from "./stores/plan.js";
export type { LocalForageLike, LocalRecord, Modification, RecordStatus, Store, StoreChanges, StoreQuery } from "./stores/index.js";
