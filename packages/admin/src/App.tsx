/** The application: who is logged in, what they may see, and the view of the address. */

import { useCallback, useEffect, useMemo, useState } from "preact/hooks";

import { Api, paths, type ServerInfo } from "./api";
import { Login } from "./components/Login";
import { BucketPage, NewBucket } from "./components/BucketPage";
import { CollectionPage, NewCollection } from "./components/CollectionPage";
import { GroupPage, NewGroup } from "./components/GroupPage";
import { HomePage } from "./components/HomePage";
import { NewRecord, RecordPage } from "./components/RecordPage";
import { Sidebar } from "./components/Sidebar";
import { ErrorMessage, Loading } from "./components/ui";
import { AppContext, capability, useApp, type AppState, type Tree } from "./context";
import { Grants, type PermissionEntry } from "./permissions";
import { navigate, useRoute, type Route } from "./routes";
import { loadSession, saveSession, sessionFromCallback, type Session } from "./session";

/** The API's root: the admin is served at ``<root>/admin/``. */
export function apiRoot(): string {
  const match = location.pathname.match(/^(.*)\/admin(\/|$)/);
  return match ? match[1] : "/v1";
}

interface Message {
  text: string;
  hash: string;
}

interface LoggedIn {
  session: Session;
  server: ServerInfo;
  grants: Grants;
  tree: Tree;
}

async function loadTree(api: Api, server: ServerInfo, grants: Grants): Promise<Tree> {
  const buckets = new Map<string, string[]>();
  const readable = await api.all(paths.buckets(), { sort: "id" }, 200).catch(() => []);
  for (const bucket of readable) buckets.set(bucket.id, []);
  // Buckets the user cannot read, but holding something shared with them, come from GET /permissions.
  if (capability(server, "permissions_endpoint") && grants.principals.has("system.Authenticated")) {
    const entries = await api.all<PermissionEntry>("/permissions").catch(() => []);
    for (const entry of entries) {
      if (entry.bucket_id && !buckets.has(entry.bucket_id)) buckets.set(entry.bucket_id, []);
    }
  }
  await Promise.all(
    [...buckets.keys()].map(async (bid) => {
      const collections = await api.all(paths.collections(bid), { sort: "id" }, 200).catch(() => []);
      buckets.set(bid, collections.map((collection) => collection.id));
    }),
  );
  return { buckets: new Map([...buckets.entries()].sort(([a], [b]) => a.localeCompare(b))) };
}

async function logIn(root: string, session: Session): Promise<LoggedIn> {
  const api = new Api(root, session.authorization);
  const server = await api.serverInfo();
  if (session.authorization && !server.user) {
    throw new Error("Login failed: the server did not accept these credentials.");
  }
  const principals = server.user?.principals ?? ["system.Everyone"];
  const grants = await Grants.load(
    api,
    principals,
    Boolean(server.settings.readonly),
    capability(server, "permissions_endpoint"),
  );
  const tree = await loadTree(api, server, grants);
  return { session, server, grants, tree };
}

export function App() {
  const root = useMemo(apiRoot, []);
  const route = useRoute();
  const [anonymousServer, setAnonymousServer] = useState<ServerInfo | null>(null);
  const [state, setState] = useState<LoggedIn | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [starting, setStarting] = useState(true);
  const [message, setMessage] = useState<Message>({ text: "", hash: "" });

  const start = useCallback(
    async (session: Session) => {
      const loggedIn = await logIn(root, session);
      saveSession(session);
      setState(loggedIn);
    },
    [root],
  );

  useEffect(() => {
    new Api(root, null).serverInfo().then(setAnonymousServer, setProblem);
    const stored = loadSession();
    if (!stored) {
      setStarting(false);
      return;
    }
    start(stored)
      .catch((failure: unknown) => {
        saveSession(null);
        setProblem(failure);
      })
      .finally(() => setStarting(false));
  }, [root, start]);

  // Coming back from a provider's login page with the token in the address.
  useEffect(() => {
    if (route.name !== "auth" || !anonymousServer) return;
    try {
      const session = sessionFromCallback(anonymousServer, route.method, route.payload);
      start(session).then(
        () => navigate([]),
        (failure: unknown) => {
          setProblem(failure);
          navigate(["login"]);
        },
      );
    } catch (failure) {
      setProblem(failure);
      navigate(["login"]);
    }
  }, [route, anonymousServer, start]);

  const logout = useCallback(() => {
    saveSession(null);
    setState(null);
    setProblem(null);
    navigate(["login"]);
  }, []);

  const app: AppState | null = useMemo(() => {
    if (!state) return null;
    const api = new Api(root, state.session.authorization);
    return {
      api,
      server: state.server,
      session: state.session,
      grants: state.grants,
      tree: state.tree,
      refresh: async () => {
        const grants = await Grants.load(
          api,
          [...state.grants.principals],
          state.grants.readonlyServer,
          capability(state.server, "permissions_endpoint"),
        );
        const tree = await loadTree(api, state.server, grants);
        setState({ ...state, grants, tree });
      },
      // A message is shown on the view it was said for (an action that moves to another view says it there).
      notify: (text: string) => setMessage({ text, hash: location.hash }),
      logout,
    };
  }, [root, state, logout]);

  if (starting || route.name === "auth") return <Loading what="the admin" />;
  if (!app || route.name === "login") {
    if (!anonymousServer) {
      return problem ? (
        <main id="main">
          <h1>Kinto admin</h1>
          <ErrorMessage error={problem} />
        </main>
      ) : (
        <Loading what="the server's information" />
      );
    }
    return (
      <Login
        root={root}
        server={anonymousServer}
        problem={problem}
        onLogin={async (session) => {
          await start(session);
          setProblem(null);
          navigate([]);
        }}
      />
    );
  }
  return (
    <AppContext.Provider value={app}>
      <Shell route={route} message={message} />
    </AppContext.Provider>
  );
}

function Shell({ route, message }: { route: Route; message: Message }) {
  const app = useApp();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [route]);
  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header class="topbar">
        <button
          type="button"
          class="menu-toggle secondary"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <a class="brand" href="#/">
          {app.server.project_name} admin
        </a>
        <span class="who">
          {app.server.user ? (
            <>
              Logged in as <code class="user-id">{app.server.user.id}</code>
            </>
          ) : (
            "Anonymous"
          )}
          {app.server.settings.readonly && <span class="badge">read-only server</span>}
        </span>
        <button type="button" class="secondary" onClick={app.logout}>
          Log out
        </button>
      </header>
      <div class="layout">
        <Sidebar open={menuOpen} />
        <main id="main" tabIndex={-1}>
          <p class="status" role="status">
            {message.hash === location.hash ? message.text : ""}
          </p>
          <View route={route} />
        </main>
      </div>
    </div>
  );
}

/** The skip link moves focus (a hash link would change the route). */
function skipToMain(event: Event) {
  event.preventDefault();
  document.getElementById("main")?.focus();
}

function View({ route }: { route: Route }) {
  switch (route.name) {
    case "home":
      return <HomePage />;
    case "new-bucket":
      return <NewBucket />;
    case "bucket":
      return <BucketPage bid={route.bid} tab={route.tab} />;
    case "new-collection":
      return <NewCollection bid={route.bid} />;
    case "new-group":
      return <NewGroup bid={route.bid} />;
    case "collection":
      return <CollectionPage bid={route.bid} cid={route.cid} tab={route.tab} />;
    case "new-record":
      return <NewRecord bid={route.bid} cid={route.cid} />;
    case "record":
      return <RecordPage bid={route.bid} cid={route.cid} rid={route.rid} tab={route.tab} />;
    case "group":
      return <GroupPage bid={route.bid} gid={route.gid} tab={route.tab} />;
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>Nothing is shown at this address.</p>
        </>
      );
  }
}
