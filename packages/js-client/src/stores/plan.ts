/**
 * How an indexed store answers a query: which index, which key ranges. Pure functions, no
 * IndexedDB here, so the planning is testable anywhere.
 *
 * An index holds one key per record: the value of its field, encoded so that IndexedDB's key
 * order is the server's order within a JSON type (`null`, strings, numbers, booleans; a record
 * whose value is an array, an object or missing is not in the index). Conditions that only
 * such values can meet (`$eq`/`$in` on scalars, `$lt`... on a number, string or boolean) are
 * served by the index; the others need a scan. Whatever the plan, the store checks every
 * record it read against the whole query, so a range may be wider than the condition, never
 * narrower.
 */
import type { Filters } from "../filter.js";
import type { RecordStatus, StoreQuery } from "./index.js";

/** An encoded index key: `[rank]` for null, `[rank, value]` otherwise. */
export type IndexKey = [number] | [number, string | number];

export interface KeyRange {
  lower: IndexKey;
  upper: IndexKey | [number, never[]];
  lowerOpen: boolean;
  upperOpen: boolean;
}

export type Plan =
  | { using: "index"; field: string; ranges: KeyRange[] }
  | { using: "status"; statuses: readonly RecordStatus[] }
  | { using: "scan" };

const RANK = { null: 0, string: 1, number: 2, boolean: 3 } as const;
const ALIASES: Record<string, string> = { $not: "$ne", $exclude: "$nin", $max: "$lte", $min: "$gte" };
const RANGE_OPERATORS = new Set(["$lt", "$lte", "$gt", "$gte"]);

/** The index key of a field's value, `undefined` when the value is not indexed. */
export function indexKey(value: unknown): IndexKey | undefined {
  if (value === null) return [RANK.null];
  switch (typeof value) {
    case "string":
      return [RANK.string, value];
    case "number":
      return Number.isFinite(value) ? [RANK.number, value] : undefined;
    case "boolean":
      return [RANK.boolean, value ? 1 : 0];
    default:
      return undefined;
  }
}

/** Every key of a rank: `[rank]` sorts before `[rank, anything]`, and arrays after any string or number. */
function wholeRank(rank: number): KeyRange {
  return { lower: [rank], upper: [rank, []], lowerOpen: false, upperOpen: true };
}

function only(key: IndexKey): KeyRange {
  return { lower: key, upper: key, lowerOpen: false, upperOpen: false };
}

/**
 * IndexedDB compares strings by UTF-16 code units, the server by code points. They agree on any
 * comparison with a string holding no code unit from U+D800 up; with another operand the range
 * covers every string and the check after reading decides.
 */
function codeUnitOrderIsSafe(text: string): boolean {
  return !/[\uD800-\uFFFF]/.test(text);
}

function rangeOf(operator: string, operand: unknown): KeyRange | undefined {
  const key = indexKey(operand);
  if (!key || key[0] === RANK.null) return undefined;
  const range = wholeRank(key[0]);
  if (typeof operand === "string" && !codeUnitOrderIsSafe(operand)) return range;
  if (operator === "$gt" || operator === "$gte") return { ...range, lower: key, lowerOpen: operator === "$gt" };
  return { ...range, upper: key, upperOpen: operator === "$lt" };
}

function equalityRanges(operator: string, operand: unknown): KeyRange[] | undefined {
  const operands = operator === "$eq" ? [operand] : operand;
  if (!Array.isArray(operands)) return undefined;
  const keys = operands.map(indexKey);
  if (keys.some((key) => key === undefined)) return undefined;
  const unique = new Map(keys.map((key) => [JSON.stringify(key), key as IndexKey]));
  return [...unique.values()].map(only);
}

function conditionsOf(condition: unknown): [string, unknown][] {
  const isOperatorObject =
    condition !== null && typeof condition === "object" && !Array.isArray(condition) &&
    Object.keys(condition).length > 0 && Object.keys(condition).every((key) => key.startsWith("$"));
  if (!isOperatorObject) return [["$eq", condition]];
  return Object.entries(condition as Record<string, unknown>).map(([operator, operand]) => [ALIASES[operator] ?? operator, operand]);
}

/** Plans a query on a store whose indexed fields are `indexed`: equality first, then a range, then the status index. */
export function planQuery(query: StoreQuery | undefined, indexed: ReadonlySet<string>): Plan {
  const filters: Filters = query?.filters ?? {};
  let rangePlan: Plan | undefined;
  for (const [field, condition] of Object.entries(filters)) {
    if (!indexed.has(field)) continue;
    const conditions = conditionsOf(condition);
    for (const [operator, operand] of conditions) {
      if (operator !== "$eq" && operator !== "$in") continue;
      const ranges = equalityRanges(operator, operand);
      if (ranges) return { using: "index", field, ranges };
    }
    const range = rangeOfConditions(conditions);
    if (range && !rangePlan) rangePlan = { using: "index", field, ranges: [range] };
  }
  if (rangePlan) return rangePlan;
  // Pending changes are few among many synchronised records: worth the status index.
  const statuses = query?.status;
  if (statuses && !statuses.includes("synced")) return { using: "status", statuses };
  return { using: "scan" };
}

/** The range of a field's `$gt`/`$gte` and `$lt`/`$lte` together (`{$gte: 10, $lt: 20}`), when they share a type. */
function rangeOfConditions(conditions: [string, unknown][]): KeyRange | undefined {
  const ranges = conditions
    .filter(([operator]) => RANGE_OPERATORS.has(operator))
    .map(([operator, operand]) => ({ operator, range: rangeOf(operator, operand) }))
    .filter((candidate): candidate is { operator: string; range: KeyRange } => candidate.range !== undefined);
  if (ranges.length === 0) return undefined;
  const lower = ranges.find(({ operator }) => operator === "$gt" || operator === "$gte")?.range;
  const upper = ranges.find(({ operator }) => operator === "$lt" || operator === "$lte")?.range;
  if (!lower || !upper || lower.lower[0] !== upper.lower[0]) return ranges[0].range;
  return { lower: lower.lower, lowerOpen: lower.lowerOpen, upper: upper.upper, upperOpen: upper.upperOpen };
}
