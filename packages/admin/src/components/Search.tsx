/** Search in a collection's records (the indexing plugin's ``search`` endpoint, query string syntax). */

import { useState } from "preact/hooks";

import { paths } from "../api";
import { useApp } from "../context";
import { href } from "../routes";
import { ErrorMessage } from "./ui";

interface Hit {
  _id: string;
  _source?: Record<string, unknown>;
}

interface Answer {
  hits?: { total?: number | { value: number }; hits?: Hit[] };
}

export function Search({ bid, cid }: { bid: string; cid: string }) {
  const { api } = useApp();
  const [text, setText] = useState("");
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const { json } = await api.request<Answer>("GET", paths.search(bid, cid), { query: { q: text } });
      setHits(json.hits?.hits ?? []);
    } catch (failure) {
      setHits(null);
      setError(failure);
    }
  };
  return (
    <section aria-label="Search">
      <form role="search" onSubmit={submit} class="search">
        <label for="search-text">Search records</label>
        <p class="help" id="search-help">
          Query string syntax: <code>title:milk</code>, <code>done:false AND priority:&gt;2</code>.
        </p>
        <input id="search-text" type="search" aria-describedby="search-help" value={text} onInput={(event) => setText((event.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      <ErrorMessage error={error} />
      {hits && (
        <>
          <p role="status">{hits.length === 1 ? "1 record found." : `${hits.length} records found.`}</p>
          <ul class="hits">
            {hits.map((hit) => (
              <li key={hit._id}>
                <a href={href(["buckets", bid, "collections", cid, "records", hit._id])}>{hit._id}</a>
                <pre class="json">{JSON.stringify(hit._source ?? {}, null, 2)}</pre>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
