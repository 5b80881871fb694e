-- Requests for wrk, prepared in a file: one per line as METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY.
-- Thread k of n sends lines k, k+n, k+2n... in turn, so threads never share a stream.
-- Usage: wrk -t2 -c64 -d10s -s bench/requests.lua http://127.0.0.1:8000 -- FILE THREADS
-- done() prints one "bench:" line with the totals, counting every non-2xx response.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local lines = {}
  for line in io.lines(args[1]) do
    table.insert(lines, line)
  end
  local step = tonumber(args[2])
  requests, bad, first_bad, turn = {}, 0, "", 0
  for i = (id % #lines) + 1, #lines, step do
    local method, path, token, body = lines[i]:match("^(%S+)\t(%S+)\t(%S*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    if token ~= "" then
      headers["Authorization"] = "Bearer " .. token
    end
    table.insert(requests, wrk.format(method, path, headers, body ~= "" and body or nil))
  end
end

function request()
  turn = turn % #requests + 1
  return requests[turn]
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency)
  local bad_total, first = 0, ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    if first == "" then
      first = thread:get("first_bad")
    end
  end
  local e = summary.errors
  io.write(string.format(
    "bench: requests=%d micros=%d p50=%d p99=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad_total, e.connect + e.read + e.write + e.timeout))
  if first ~= "" then
    io.write("bench-first-error: " .. first:gsub("\n", " ") .. "\n")
  end
end
