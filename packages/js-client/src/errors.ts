/** Errors the client raises; each carries what a caller needs to decide what to do next. */

/** The body of an error answered by a kinto.core server (`code`, `errno`, `error`, `message`, `details`). */
export interface ServerErrorBody {
  code: number;
  errno: number;
  error: string;
  message?: string;
  details?: unknown;
  info?: string;
}

/** The server answered with an error status. `retryAfter` is in seconds, when the server sent one. */
export class ServerError extends Error {
  readonly status: number;
  readonly errno: number | undefined;
  readonly body: ServerErrorBody | undefined;
  readonly retryAfter: number | undefined;

  constructor(status: number, body: ServerErrorBody | undefined, retryAfter?: number) {
    super(body?.message ? `HTTP ${status}: ${body.message}` : `HTTP ${status}`);
    this.name = "ServerError";
    this.status = status;
    this.errno = body?.errno;
    this.body = body;
    this.retryAfter = retryAfter;
  }
}

/** The server could not be reached (offline, DNS, connection refused): local data is still usable. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(`Network error: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "NetworkError";
  }
}

/** The server asked clients to back off (`Backoff` or `Retry-After`) until `until` (epoch milliseconds). */
export class BackoffError extends Error {
  readonly until: number;

  constructor(until: number) {
    super(`The server asked to back off until ${new Date(until).toISOString()}`);
    this.name = "BackoffError";
    this.until = until;
  }
}

/**
 * The server lost what this client had synchronised (flushed, restored from an old backup, reset).
 * Call `resource.resetSyncStatus()` to publish every local record again at the next `sync()`.
 */
export class ServerWasFlushedError extends Error {
  readonly localTimestamp: number;
  readonly serverTimestamp: number;

  constructor(localTimestamp: number, serverTimestamp: number) {
    super(`The server was flushed: its timestamp is ${serverTimestamp}, this client synchronised up to ${localTimestamp}`);
    this.name = "ServerWasFlushedError";
    this.localTimestamp = localTimestamp;
    this.serverTimestamp = serverTimestamp;
  }
}

/** A filter or sort the client cannot evaluate (unknown operator, malformed value). */
export class InvalidQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidQueryError";
  }
}

/** `update()` or `delete()` of an id the local store does not hold; `create()` of one it holds. */
export class LocalRecordError extends Error {
  readonly id: string;

  constructor(message: string, id: string) {
    super(message);
    this.name = "LocalRecordError";
    this.id = id;
  }
}
