-- DELETE the records of one group per request from the pool collection args[1] (seeded just before the
-- run); args[2] is the number of wrk threads. Thread t deletes groups t, t + threads, t + 2 x threads...,
-- so no two requests aim at the same group. An answer with no deleted record (the pool ran dry, or the
-- filter missed) is counted in `empty_answers`.

empty_answers = 0
local next_group
local step

function init(args)
  wrk.path = wrk.path .. args[1] .. "/records?group="
  step = tonumber(args[2])
  next_group = thread_index or 0
end

function request()
  local group = next_group
  next_group = next_group + step
  return wrk.format("DELETE", wrk.path .. group)
end

function response(status, headers, body)
  bench_count(status)
  if status == 200 and body:match('^%s*{%s*"data"%s*:%s*%[%s*%]') then
    empty_answers = empty_answers + 1
  end
end
