-- Appended to every workload script: numbers each thread, counts answers by status when the workload
-- asks for it (`count_statuses`, set by the prelude; reading every answer costs wrk CPU), then prints
-- one machine-readable line. Latencies are wrk's (microseconds, request sent to response read).

local bench_threads = {}
statuses = {}

function bench_count(status)
  statuses[status] = (statuses[status] or 0) + 1
end

if count_statuses and response == nil then
  function response(status, headers, body)
    bench_count(status)
  end
end

function setup(thread)
  thread:set("thread_index", #bench_threads)
  bench_threads[#bench_threads + 1] = thread
end

function done(summary, latency, requests)
  local precondition_failed, sub_failures, empty_answers = 0, 0, 0
  local totals = {}
  for _, thread in ipairs(bench_threads) do
    precondition_failed = precondition_failed + (thread:get("precondition_failed") or 0)
    sub_failures = sub_failures + (thread:get("sub_failures") or 0)
    empty_answers = empty_answers + (thread:get("empty_answers") or 0)
    for status, count in pairs(thread:get("statuses") or {}) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(totals) do
    parts[#parts + 1] = status .. ":" .. count
  end
  table.sort(parts)
  local errors = summary.errors
  io.write(string.format(
    "BENCH-RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d "
      .. "precondition_failed=%d sub_failures=%d empty_answers=%d statuses=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout, precondition_failed, sub_failures, empty_answers, table.concat(parts, ",")))
end
