/** A list of objects from the server, a page at a time, sorted by the column the user picks. */

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

import type { KintoObject } from "../api";
import { useApp } from "../context";
import { ErrorMessage, Loading, formatDate } from "./ui";

export interface Column {
  /** The field sorted on (dotted for nested fields), or none for a column that cannot be sorted. */
  field?: string;
  label: string;
  render: (item: KintoObject) => ComponentChildren;
}

export const PAGE_SIZE = 20;

interface Props {
  path: string;
  columns: Column[];
  caption: string;
  /** Said when the list is empty. */
  empty: string;
  defaultSort?: string;
  query?: Record<string, string>;
}

export function lastModifiedColumn(): Column {
  return { field: "last_modified", label: "Last modified", render: (item) => formatDate(item.last_modified) };
}

export function ObjectList({ path, columns, caption, empty, defaultSort = "-last_modified", query }: Props) {
  const { api } = useApp();
  const [sort, setSort] = useState(defaultSort);
  const [items, setItems] = useState<KintoObject[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const queryKey = JSON.stringify(query ?? {});

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(null);
    api.list(path, { sort, limit: PAGE_SIZE, query }).then(
      (page) => {
        if (!current) return;
        setItems(page.items);
        setNext(page.next);
        setLoading(false);
      },
      (failure: unknown) => {
        if (!current) return;
        setItems([]);
        setNext(null);
        setError(failure);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, path, sort, queryKey]);

  const more = async () => {
    if (!next) return;
    setLoading(true);
    try {
      const page = await api.page(next);
      setItems((previous) => [...previous, ...page.items]);
      setNext(page.next);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  };

  const sortBy = (field: string) => setSort(sort === field ? `-${field}` : field);

  return (
    <div class="object-list">
      <ErrorMessage error={error} />
      {!error && (
        <div class="table-scroll">
          <table>
            <caption>{caption}</caption>
            <thead>
              <tr>
                {columns.map((column) => (
                  <th key={column.label} scope="col" aria-sort={ariaSort(sort, column.field)}>
                    {column.field ? (
                      <button type="button" class="sort" onClick={() => sortBy(column.field!)}>
                        {column.label}
                        <span aria-hidden="true">{sortArrow(sort, column.field)}</span>
                      </button>
                    ) : (
                      column.label
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id}>
                  {columns.map((column) => (
                    <td key={column.label} data-label={column.label}>
                      {column.render(item)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {!loading && !error && items.length === 0 && <p class="empty">{empty}</p>}
      {loading && <Loading what="the list" />}
      {next && !loading && (
        <button type="button" onClick={more}>
          Load more
        </button>
      )}
    </div>
  );
}

function ariaSort(sort: string, field?: string): "ascending" | "descending" | undefined {
  if (!field) return undefined;
  if (sort === field) return "ascending";
  if (sort === `-${field}`) return "descending";
  return undefined;
}

function sortArrow(sort: string, field: string): string {
  if (sort === field) return " ▲";
  if (sort === `-${field}`) return " ▼";
  return "";
}
