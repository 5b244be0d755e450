/**
 * Filters and sorting evaluated on local records, with the server's semantics (the storage
 * contract of kinto.core): what `filter()` returns offline is what the server would list.
 *
 * A filter maps a field (a dotted path into the record: `author.name`) to a value (equality) or
 * to operators: `$eq`, `$ne` (`$not`), `$in`, `$nin` (`$exclude`), `$lt`, `$lte` (`$max`),
 * `$gt`, `$gte` (`$min`), `$like`, `$has`, `$contains`, `$contains_any`. Conditions are AND-ed.
 */
import { InvalidQueryError } from "./errors.js";

export type Operator =
  | "$eq" | "$ne" | "$not" | "$in" | "$nin" | "$exclude" | "$lt" | "$lte" | "$max" | "$gt" | "$gte" | "$min"
  | "$like" | "$has" | "$contains" | "$contains_any";

export type Condition = unknown | Partial<Record<Operator, unknown>>;
export type Filters = Record<string, Condition>;
/** `"title"`, `"-last_modified"` (descending), or several of them. */
export type SortSpec = string | string[];

type Record_ = Record<string, unknown>;
type Predicate = (record: Record_) => boolean;

/** Marks a path leading nowhere: distinct from `null`, which is a value. */
export const MISSING: unique symbol = Symbol("missing");
type Value = unknown | typeof MISSING;

const ALIASES: Record<string, string> = { $not: "$ne", $exclude: "$nin", $max: "$lte", $min: "$gte" };
const OPERATORS = new Set(["$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$like", "$has", "$contains", "$contains_any"]);

export function fieldValue(record: Record_, field: string): Value {
  if (field in record) return record[field];
  let current: unknown = record;
  for (const part of field.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current) || !(part in current)) return MISSING;
    current = (current as Record_)[part];
  }
  return current;
}

/** Compiles filters once into a predicate (a full scan then costs one call per record). */
export function compileFilters(filters: Filters | undefined): Predicate {
  const predicates: Predicate[] = [];
  for (const [field, condition] of Object.entries(filters ?? {})) {
    for (const [operator, operand] of operatorsOf(condition)) {
      const test = operatorTest(operator, operand, field);
      predicates.push((record) => test(fieldValue(record, field)));
    }
  }
  return (record) => predicates.every((predicate) => predicate(record));
}

function operatorsOf(condition: Condition): [string, unknown][] {
  const isOperatorObject =
    condition !== null && typeof condition === "object" && !Array.isArray(condition) &&
    Object.keys(condition).length > 0 && Object.keys(condition).every((key) => key.startsWith("$"));
  if (!isOperatorObject) return [["$eq", condition]];
  return Object.entries(condition as Record_).map(([operator, operand]) => [ALIASES[operator] ?? operator, operand]);
}

function operatorTest(operator: string, operand: unknown, field: string): (value: Value) => boolean {
  if (!OPERATORS.has(operator)) throw new InvalidQueryError(`Unknown filter operator ${operator} on ${field}`);
  switch (operator) {
    case "$eq":
      return (value) => value !== MISSING && jsonEqual(value, operand);
    case "$ne":
      return (value) => value === MISSING || !jsonEqual(value, operand);
    case "$in": {
      const values = asList(operand, operator, field);
      return (value) => value !== MISSING && values.some((candidate) => jsonEqual(value, candidate));
    }
    case "$nin": {
      const values = asList(operand, operator, field);
      return (value) => value === MISSING || !values.some((candidate) => jsonEqual(value, candidate));
    }
    case "$lt":
      return (value) => sameScalarType(value, operand) && compareSameType(value, operand) < 0;
    case "$lte":
      return (value) => sameScalarType(value, operand) && compareSameType(value, operand) <= 0;
    case "$gt":
      return (value) => sameScalarType(value, operand) && compareSameType(value, operand) > 0;
    case "$gte":
      return (value) => sameScalarType(value, operand) && compareSameType(value, operand) >= 0;
    case "$has":
      return (value) => (value !== MISSING) === Boolean(operand);
    case "$like": {
      if (typeof operand !== "string") throw new InvalidQueryError(`$like on ${field} needs a string`);
      const pattern = operand.toLowerCase();
      return (value) => typeof value === "string" && likeMatches(value.toLowerCase(), pattern);
    }
    case "$contains": {
      const values = asList(operand, operator, field, true);
      return (value) => Array.isArray(value) && values.every((wanted) => value.some((item) => jsonEqual(item, wanted)));
    }
    default: {
      const values = asList(operand, operator, field, true);
      return (value) => Array.isArray(value) && values.some((wanted) => value.some((item) => jsonEqual(item, wanted)));
    }
  }
}

function asList(operand: unknown, operator: string, field: string, scalarAllowed = false): unknown[] {
  if (Array.isArray(operand)) return operand;
  if (scalarAllowed) return [operand];
  throw new InvalidQueryError(`${operator} on ${field} needs a list of values`);
}

/** JSON equality: `1` equals `1.0`, but `1`, `"1"`, `true` and `null` all differ; key order is irrelevant. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, index) => jsonEqual(item, other[index]));
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual((a as Record_)[key], (b as Record_)[key]));
}

function sameScalarType(value: Value, operand: unknown): boolean {
  const type = typeof operand;
  return (type === "number" || type === "string" || type === "boolean") && typeof value === type;
}

// `*` stands for any sequence; without one the pattern may appear anywhere. Matched greedily
// with backtracking to the last star only: linear in practice, never exponential.
function likeMatches(text: string, pattern: string): boolean {
  if (!pattern.includes("*")) return text.includes(pattern);
  let t = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === text[t]) {
      t++;
      p++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

// The server's total order: null < strings < numbers < booleans < arrays < objects < missing.
function typeRank(value: Value): number {
  if (value === MISSING) return 6;
  if (value === null) return 0;
  if (Array.isArray(value)) return 4;
  switch (typeof value) {
    case "string":
      return 1;
    case "number":
      return 2;
    case "boolean":
      return 3;
    default:
      return 5;
  }
}

function compareSameType(a: unknown, b: unknown): number {
  if (typeof a === "string") return compareCodePoints(a, b as string);
  if (typeof a === "number" || typeof a === "boolean") return Number(a) - Number(b);
  return 0;
}

// JavaScript compares UTF-16 code units; the server compares code points. Both agree except
// for surrogates against code units above them, which this remaps.
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x !== y) return codePointOrder(x) - codePointOrder(y);
  }
  return a.length - b.length;
}

function codePointOrder(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

export function compareValues(a: Value, b: Value): number {
  const rankDifference = typeRank(a) - typeRank(b);
  if (rankDifference !== 0) return rankDifference;
  return compareSameType(a, b);
}

/** Sorts as the server's lists do: ties are broken by `id`, in the direction of the last key, unless the sort names it. */
export function compileSort(sort: SortSpec | undefined): (a: Record_, b: Record_) => number {
  const fields = (typeof sort === "string" ? sort.split(",") : sort ?? []).map((spec) => spec.trim()).filter(Boolean);
  const keys = fields.map((spec) => (spec.startsWith("-") ? { field: spec.slice(1), direction: -1 } : { field: spec.replace(/^\+/, ""), direction: 1 }));
  if (!keys.some((key) => key.field === "id")) keys.push({ field: "id", direction: keys.at(-1)?.direction ?? -1 });
  return (a, b) => {
    for (const { field, direction } of keys) {
      const order = compareValues(fieldValue(a, field), fieldValue(b, field));
      if (order !== 0) return order * direction;
    }
    return 0;
  };
}
