-- PATCH records with `If-Match: "<their current timestamp>"`.
-- args[1] is a file of "<id> <timestamp>" lines (the pool, read just before the run); args[2] the
-- number of wrk threads. Each thread owns its share of the pool; a record is taken out while a request
-- on it is in flight and put back with the timestamp its response carries, so every If-Match is the
-- current one unless the server loses track. A 412 (its body names the existing record) is counted
-- in `precondition_failed` and the record goes back with the timestamp the server reports.

precondition_failed = 0
local ready = {}
local busy = {}
local timestamps = {}
local counter = 0

function init(args)
  local thread_count = tonumber(args[2])
  local line_number = 0
  for line in io.lines(args[1]) do
    if line_number % thread_count == (thread_index or 0) then
      local id, timestamp = line:match("^(%S+) (%d+)$")
      timestamps[id] = timestamp
      ready[#ready + 1] = id
    end
    line_number = line_number + 1
  end
end

function request()
  counter = counter + 1
  local id = table.remove(ready)
  local timestamp
  if id == nil then
    -- Pool exhausted (responses the script could not read): this request is bound to fail, and counts.
    id, timestamp = params.missing_id, "1"
  else
    busy[id] = true
    timestamp = timestamps[id]
  end
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["If-Match"] = '"' .. timestamp .. '"'
  local body = string.format('{"data": {"score": %d}}', counter)
  return wrk.format("PATCH", params.prefix .. id, headers, body)
end

function response(status, headers, body)
  bench_count(status)
  if status == 412 then
    precondition_failed = precondition_failed + 1
  end
  local id = body:match('"id":%s*"([^"]+)"')
  local timestamp = body:match('"last_modified":%s*(%d+)')
  if id and timestamp and busy[id] then
    busy[id] = nil
    timestamps[id] = timestamp
    ready[#ready + 1] = id
  end
end
