local counter = 1
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local ok, links, bad = 0, 0, 0
  for _, t in ipairs(threads) do
    ok = ok + (t:get("ok") or 0)
    links = links + (t:get("links") or 0)
    bad = bad + (t:get("bad") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCHRESULT requests=%d duration_us=%d status_err=%d connect=%d read=%d write=%d timeout=%d ok=%d links=%d bad=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    ok, links, bad, latency:percentile(50), latency:percentile(99)))
end
