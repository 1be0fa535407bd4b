-- Shared by every scenario script. done() prints one machine-readable line so
-- the harness never scrapes wrk's human-readable summary (its units change
-- with magnitude: us, ms, s).
local report = {}

-- setup() runs once per wrk thread in the main Lua state; numbering the threads
-- lets each seed its own random sequence (os.time() alone is the same in all).
local threads = 0
function report.setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function report.seed()
  math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919)
end

function report.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

return report
