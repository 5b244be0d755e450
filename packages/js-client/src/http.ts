/**
 * The HTTP layer: one `fetch` per request, authentication and custom headers, the server's error
 * format parsed into `ServerError`, and the `Backoff` / `Retry-After` headers honoured.
 */
import { BackoffError, NetworkError, ServerError, type ServerErrorBody } from "./errors.js";

/** Basic, Bearer (FxA/OpenID tokens; `scheme` for e.g. `Portier`), or a ready `Authorization` value. */
export type Auth =
  | { type: "basic"; username: string; password: string }
  | { type: "bearer"; token: string; scheme?: string }
  | string;

export interface HttpOptions {
  /** The server's root, with or without its `/v1` prefix (`https://api.server.com` means `.../v1`). */
  server: string;
  auth?: Auth;
  /** Headers sent with every request (after the authentication header, so they may replace it). */
  headers?: Record<string, string>;
  /** How many times a request answered 503/429 with `Retry-After` is tried again, after waiting. */
  retries?: number;
  /** The `fetch` implementation (default: the global one). */
  fetch?: typeof fetch;
}

export interface HttpRequest {
  method?: string;
  /** A path below the server's root (`/articles`), or a full URL (a `Next-Page` link). */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface HttpEvents {
  /** The server asked clients to slow down until `until` (epoch milliseconds). */
  backoff: { until: number };
}

const API_PREFIX = /\/v\d+\/?$/;

export function serverRoot(server: string): string {
  const trimmed = server.replace(/\/+$/, "");
  return API_PREFIX.test(trimmed + "/") ? trimmed : `${trimmed}/v1`;
}

export function authorizationHeader(auth: Auth): string {
  if (typeof auth === "string") return auth;
  if (auth.type === "basic") return `Basic ${base64(`${auth.username}:${auth.password}`)}`;
  return `${auth.scheme ?? "Bearer"} ${auth.token}`;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export class HttpClient {
  readonly root: string;
  private readonly headers: Record<string, string>;
  private readonly retries: number;
  private readonly fetchImpl: typeof fetch;
  private readonly onBackoff: (until: number) => void;
  /** Epoch milliseconds before which the server asked not to be called again (0: no request). */
  backoffUntil = 0;

  constructor(options: HttpOptions, onBackoff: (until: number) => void = () => {}) {
    this.root = serverRoot(options.server);
    this.headers = {
      Accept: "application/json",
      ...(options.auth !== undefined ? { Authorization: authorizationHeader(options.auth) } : {}),
      ...options.headers,
    };
    this.retries = options.retries ?? 0;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.onBackoff = onBackoff;
  }

  /** Throws `BackoffError` while the server's last `Backoff`/`Retry-After` is in force. */
  checkBackoff(now = Date.now()): void {
    if (this.backoffUntil > now) throw new BackoffError(this.backoffUntil);
  }

  url(path: string, query?: HttpRequest["query"]): string {
    const url = new URL(/^https?:\/\//.test(path) ? path : this.root + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(request);
      const retryAfter = seconds(response.headers.get("Retry-After"));
      this.recordBackoff(response.headers.get("Backoff"), retryAfter);
      const body = await readBody(response);
      if (response.ok) return { status: response.status, headers: response.headers, body: body as T };
      const retriable = (response.status === 503 || response.status === 429) && retryAfter !== undefined;
      if (retriable && attempt < this.retries) {
        await sleep(retryAfter * 1000);
        continue;
      }
      throw new ServerError(response.status, asErrorBody(body, response.status), retryAfter);
    }
  }

  private async send(request: HttpRequest): Promise<Response> {
    const headers: Record<string, string> = { ...this.headers, ...request.headers };
    const init: RequestInit = { method: request.method ?? "GET", headers };
    if (request.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(request.body);
    }
    try {
      return await this.fetchImpl(this.url(request.path, request.query), init);
    } catch (error) {
      throw new NetworkError(error);
    }
  }

  // A response without `Backoff` lifts an earlier one: the server says when pressure is over.
  private recordBackoff(backoffHeader: string | null, retryAfter: number | undefined): void {
    const backoff = seconds(backoffHeader);
    const waitSeconds = Math.max(backoff ?? 0, retryAfter ?? 0);
    if (waitSeconds === 0) {
      this.backoffUntil = 0;
      return;
    }
    this.backoffUntil = Date.now() + waitSeconds * 1000;
    this.onBackoff(this.backoffUntil);
  }
}

function seconds(header: string | null): number | undefined {
  if (header === null) return undefined;
  const value = Number.parseInt(header, 10);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function asErrorBody(body: unknown, status: number): ServerErrorBody | undefined {
  if (body && typeof body === "object" && "errno" in body) return body as ServerErrorBody;
  if (typeof body === "string") return { code: status, errno: 999, error: "Unexpected response", message: body.slice(0, 200) };
  return undefined;
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
