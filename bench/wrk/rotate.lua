-- Refresh with rotation: request() takes a refresh token off the thread's pool, response() puts
-- back the new one it finds with the Lua pattern BENCH_EXTRACT. A failed refresh loses its
-- token (it may be spent server-side) and counts as an error. done() writes the pool back
-- (BENCH_POOL_OUT) for the next run; tokens in flight when the run stops are lost.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local pattern
bad, dry = 0, 0

function setup(thread) common.setup(thread) end

function init(_args)
  pattern = common.env("BENCH_EXTRACT")
  pool = common.load_pool(id, tonumber(common.env("BENCH_THREADS", "1")))
end

function request()
  local line = table.remove(pool)
  if line == nil then
    common.run_dry()
    return wrk.format("GET", "/pool-empty")
  end
  return common.format(line)
end

function response(status, _headers, body)
  local fresh = status == 200 and body and body:match(pattern)
  if fresh then
    pool[#pool + 1] = fresh
  else
    bad = bad + 1
  end
end

function done(summary, latency, _requests) common.done(summary, latency) end
