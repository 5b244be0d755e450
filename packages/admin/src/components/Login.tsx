/** The login form: the ways to log in that the server offers (read from its capabilities). */

import { useState } from "preact/hooks";

import { Api, type ServerInfo } from "../api";
import { basicAuthorization, loginMethods, redirectUrl, type Session } from "../session";
import { ErrorMessage } from "./ui";

interface Props {
  root: string;
  server: ServerInfo;
  onLogin: (session: Session) => Promise<void>;
  /** A failure to show (a provider's refusal, credentials the server did not accept). */
  problem?: unknown;
}

export function Login({ root, server, onLogin, problem }: Props) {
  const methods = loginMethods(server);
  const [method, setMethod] = useState(methods[0].id);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(problem ?? null);
  const [busy, setBusy] = useState(false);
  const chosen = methods.find((candidate) => candidate.id === method) ?? methods[0];

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    if (chosen.kind === "redirect") {
      location.href = redirectUrl(root, server, chosen.id);
      return;
    }
    setBusy(true);
    try {
      const authorization = chosen.kind === "password" ? basicAuthorization(username, password) : null;
      await onLogin({ method: chosen.id, authorization });
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  const signUp = async () => {
    setError(null);
    setBusy(true);
    try {
      await new Api(root, null).replace(`/accounts/${encodeURIComponent(username)}`, { password }, { createOnly: true });
      await onLogin({ method: "accounts", authorization: basicAuthorization(username, password) });
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <h1>Log in to {server.project_name}</h1>
      <p class="server">
        Server <code>{server.url}</code>, version {server.project_version} (HTTP API {server.http_api_version})
      </p>
      <form onSubmit={submit} aria-label="Log in">
        <fieldset class="field-group">
          <legend>Authentication method</legend>
          {methods.map((candidate) => (
            <div class="field radio" key={candidate.id}>
              <input
                type="radio"
                name="method"
                id={`method-${candidate.id}`}
                value={candidate.id}
                checked={candidate.id === method}
                onChange={() => setMethod(candidate.id)}
              />
              <label for={`method-${candidate.id}`}>{candidate.label}</label>
            </div>
          ))}
        </fieldset>
        {chosen.kind === "password" && (
          <>
            <div class="field">
              <label for="username">Username</label>
              <input
                id="username"
                autocomplete="username"
                required
                value={username}
                onInput={(event) => setUsername((event.target as HTMLInputElement).value)}
              />
            </div>
            <div class="field">
              <label for="password">Password</label>
              <input
                id="password"
                type="password"
                autocomplete="current-password"
                required
                value={password}
                onInput={(event) => setPassword((event.target as HTMLInputElement).value)}
              />
            </div>
          </>
        )}
        {chosen.kind === "redirect" && <p class="help">You will be sent to the provider's page, then back here.</p>}
        <ErrorMessage error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {chosen.kind === "redirect" ? `Continue with ${chosen.label}` : "Log in"}
          </button>
          {chosen.id === "accounts" && (
            <button type="button" class="secondary" disabled={busy || !username || !password} onClick={signUp}>
              Create this account
            </button>
          )}
        </div>
      </form>
    </main>
  );
}
