-- Writes go to a collection created empty just before the run (args[1]), so that every run of every
-- server starts from the same state: "__COLLECTION__" in the prelude's path and body is replaced.

function init(args)
  wrk.path = wrk.path:gsub("__COLLECTION__", args[1])
  if wrk.body then
    wrk.body = wrk.body:gsub("__COLLECTION__", args[1])
  end
end
