-- A single-use credential per request (authorization codes, card.coop's tickets): each request
-- takes an item off the thread's pool. The thread stops when no item is left for each of its
-- connections, so a run that outpaces its pool ends early (reported) instead of sending junk.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local per_thread_conns = 1
bad, dry = 0, 0

function setup(thread) common.setup(thread) end

function init(_args)
  local n = tonumber(common.env("BENCH_THREADS", "1"))
  per_thread_conns = math.ceil(tonumber(common.env("BENCH_CONNS", "1")) / n)
  pool = common.load_pool(id, n)
end

function request()
  local line = table.remove(pool)
  if line == nil then  -- only when the pool began smaller than the connections
    common.run_dry()
    return wrk.format("GET", "/pool-empty")
  end
  return common.format(line)
end

function response(status, _headers, _body)
  if status < 200 or status > 299 then bad = bad + 1 end
  if #pool <= per_thread_conns and dry == 0 then common.run_dry() end
end

function done(summary, latency, _requests) common.done(summary, latency) end
