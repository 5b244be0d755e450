-- A batch answers 200 even when some of its sub-requests fail: count the failed ones (`sub_failures`)
-- from the statuses listed in the body. The request itself is the fixed one of the prelude.

sub_failures = 0

function response(status, headers, body)
  bench_count(status)
  for code in body:gmatch('"status":%s*(%d+)') do
    code = tonumber(code)
    if code < 200 or code >= 400 then
      sub_failures = sub_failures + 1
    end
  end
end
