-- range.lua's requests, every answer checked: one that is not 206 Partial Content
-- (the whole file with 200, a redirect, ...) counts as error "not_206" (wrk itself
-- counts statuses >= 400 as "status"), and the body bytes are added up. Printed
-- after report.lua's line as `BENCH_RANGE {"not_206":N,"body_bytes":N}`
-- (scripts/bench/media.py). Slower than range.lua: wrk copies each body into Lua.
local report = require "report"
require "range"

-- Globals: done() reads them from every thread with thread:get().
not_206 = 0
body_bytes = 0

function response(status, headers, body)
  if status ~= 206 and status < 400 then
    not_206 = not_206 + 1
  end
  body_bytes = body_bytes + #body
end

function done(summary, latency, requests)
  report.done(summary, latency, requests)
  local wrong, bytes = 0, 0
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("not_206")
    bytes = bytes + thread:get("body_bytes")
  end
  io.write(string.format('BENCH_RANGE {"not_206":%d,"body_bytes":%.0f}\n', wrong, bytes))
end
