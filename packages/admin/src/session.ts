/**
 * Who the page talks to the server as: the Authorization header of the session, kept in
 * sessionStorage (gone when the tab closes), and the ways to log in that the server offers.
 */

import type { ServerInfo } from "./api";

export interface Session {
  /** ``basicauth``, ``accounts``, ``openid:<provider>``, ``fxa`` or ``anonymous``. */
  method: string;
  /** The Authorization header sent with every request, or null (anonymous). */
  authorization: string | null;
}

export interface LoginMethod {
  id: string;
  label: string;
  /** Username and password typed in the page, or a redirection to a provider. */
  kind: "password" | "redirect" | "anonymous";
}

export interface OpenIDProvider {
  name: string;
  auth_path: string;
  header_type?: string;
}

const STORAGE_KEY = "kinto-admin:session";

export function loadSession(): Session | null {
  try {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    return stored ? (JSON.parse(stored) as Session) : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

export function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return "Basic " + btoa(binary);
}

export function openidProviders(server: ServerInfo): OpenIDProvider[] {
  const providers = server.capabilities.openid?.providers;
  return Array.isArray(providers) ? (providers as OpenIDProvider[]) : [];
}

/** The ways to log in that the server's capabilities announce (Basic Auth is always offered, as Kinto's admin does). */
export function loginMethods(server: ServerInfo): LoginMethod[] {
  const methods: LoginMethod[] = [];
  if (server.capabilities.accounts) methods.push({ id: "accounts", label: "Kinto account", kind: "password" });
  methods.push({ id: "basicauth", label: "Basic Auth", kind: "password" });
  for (const provider of openidProviders(server)) {
    methods.push({ id: `openid:${provider.name}`, label: `OpenID Connect (${provider.name})`, kind: "redirect" });
  }
  if (server.capabilities.fxa) methods.push({ id: "fxa", label: "Firefox Account", kind: "redirect" });
  methods.push({ id: "anonymous", label: "Anonymous", kind: "anonymous" });
  return methods;
}

/** The address the provider's flow comes back to: this page, with the token after ``#/auth/<method>/``. */
function callbackUrl(method: string): string {
  return `${location.origin}${location.pathname}#/auth/${method}/`;
}

/** Where the browser goes to log in with a provider (the server's login endpoint). */
export function redirectUrl(root: string, server: ServerInfo, method: string): string {
  if (method === "fxa") {
    return `${root}/fxa-oauth/login?redirect=${encodeURIComponent(callbackUrl(method))}`;
  }
  const name = method.slice("openid:".length);
  const provider = openidProviders(server).find((candidate) => candidate.name === name);
  const path = provider?.auth_path ?? `/openid/${name}/login`;
  const query = new URLSearchParams({ callback: callbackUrl(method), scope: "openid email" });
  return `${root}${path}?${query.toString()}`;
}

/**
 * The session for what a provider's flow appended to the callback: OpenID sends the provider's
 * token answer as base64 JSON (or ``error=...``), Firefox Accounts the bare token.
 */
export function sessionFromCallback(server: ServerInfo, method: string, payload: string): Session {
  const decoded = decodeURIComponent(payload);
  if (decoded.startsWith("error=")) {
    const answer = new URLSearchParams(decoded);
    throw new Error(`Login refused: ${answer.get("error_description") || answer.get("error")}`);
  }
  if (method === "fxa") return { method, authorization: `Bearer ${decoded}` };
  const name = method.slice("openid:".length);
  const provider = openidProviders(server).find((candidate) => candidate.name === name);
  let token: { access_token?: string; id_token?: string };
  try {
    token = JSON.parse(atob(decoded));
  } catch {
    throw new Error("Login failed: the provider's answer could not be read.");
  }
  const value = token.access_token ?? token.id_token;
  if (!value) throw new Error("Login failed: the provider's answer holds no token.");
  return { method, authorization: `${provider?.header_type || "Bearer"} ${value}` };
}
