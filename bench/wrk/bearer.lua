-- A protected-resource read: GET with a Bearer token, the pool's tokens taken in turn and
-- reused (userinfo, get-encrypted-data). The requests are built once in init(); no response()
-- hook, so that wrk does not parse bodies (status >= 400 still counts as an error).
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local requests, next_one = {}, 0

function setup(thread) common.setup(thread) end

function init(_args)
  local n = tonumber(common.env("BENCH_THREADS", "1"))
  for _, line in ipairs(common.load_pool(id, n)) do requests[#requests + 1] = common.format(line) end
  if #requests == 0 then error("bearer.lua: an empty BENCH_POOL") end
end

function request()
  next_one = next_one % #requests + 1
  return requests[next_one]
end

function done(summary, latency, _requests) common.done(summary, latency) end
