-- bench/requests.lua, optionally paced: the same requests (one per line of FILE, as
-- METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY), sent at RATE a second in all when RATE > 0, or as fast
-- as answered (closed loop) when it is 0. Each request is due at start + n / rate whatever the
-- answers' latency (an open loop while connections suffice), so a slow server makes no fewer
-- requests due.
-- Usage: wrk -t2 -c64 -d60s -s bench/paced.lua http://127.0.0.1:8000 -- FILE THREADS RATE

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } timespec;
int clock_gettime(int clk_id, timespec *tp);
]]
local clock = ffi.new("timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

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
  per_ms = tonumber(args[3] or "0") / step / 1000  -- this thread's requests per ms
  requests, bad, first_bad, turn, tickets, start = {}, 0, "", 0, 0, nil
  for i = (id % #lines) + 1, #lines, step do
    local method, path, token, body = lines[i]:match("^(%S+)\t(%S+)\t(%S*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    if token ~= "" then
      headers["Authorization"] = "Bearer " .. token
    end
    table.insert(requests, wrk.format(method, path, headers, body ~= "" and body or nil))
  end
end

function delay()
  if per_ms <= 0 then
    return 0
  end
  local now = now_ms()
  start = start or now
  local due = start + tickets / per_ms
  tickets = tickets + 1
  return due > now and (due - now) or 0
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
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    "bench: requests=%d micros=%d p50=%d p99=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad_total, e.connect + e.read + e.write + e.timeout))
end
