-- GET one of `params.count` records, chosen at random per request (ids from `params.template`).
-- The prelude sets wrk.headers (authentication or none) and `params`.

function init(args)
  math.randomseed(params.seed + (thread_index or 0))
end

function request()
  return wrk.format("GET", string.format(params.template, math.random(0, params.count - 1)))
end
