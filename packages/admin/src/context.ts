import { createContext } from "preact";
import { useContext } from "preact/hooks";

import type { Api, ServerInfo } from "./api";
import type { Grants } from "./permissions";
import type { Session } from "./session";

export interface Tree {
  /** Bucket id → the ids of its collections the user may see. */
  buckets: Map<string, string[]>;
}

export interface AppState {
  api: Api;
  server: ServerInfo;
  session: Session;
  grants: Grants;
  tree: Tree;
  /** Reload what the side bar and the grants show (after a create, delete or permission change). */
  refresh: () => Promise<void>;
  notify: (message: string) => void;
  logout: () => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error("useApp outside of the logged-in application");
  return state;
}

export function capability(server: ServerInfo, name: string): boolean {
  return Boolean(server.capabilities[name]);
}
