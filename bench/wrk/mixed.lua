-- The specification's mixed load (bench/load_bench.py, issue #10): what members and
-- cooperatives do, each connection paced by delay() so that the run holds a stated rate.
--
--   BENCH_INTERVAL_MS   mean pause of a connection between its requests: the total rate is
--                       about connections / interval. A connection's first pause is uniform
--                       in 0..interval, the next ones in 0.5..1.5 x interval: the rate is
--                       steady from the start instead of ramping up.
--   BENCH_MIX           weights, e.g. "userinfo=25,fetch=25,card=20,refresh=20,share=5,exchange=5"
--   BENCH_READERS       "coop token<TAB>username" lines: userinfo and the cooperative's fetch
--   BENCH_MEMBERS       "member access token<TAB>share-data body" lines: card read, consent+share
--   BENCH_POOL          refresh tokens, rotated as in rotate.lua
--   BENCH_COOP          the cooperative (client_id) of the fetch path
--   BENCH_EXCHANGE_BODY the token-endpoint form with {1} = a ticket from a share-data answer
-- An answer is told apart by its body (wrk gives response() no request): a new refresh token
-- goes back to the pool, a ticket to the tickets the exchange requests spend. Where an
-- operation has nothing to spend (no ticket yet) it becomes a userinfo.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local common = require("common")

local interval, mix, total = 1000, {}, 0
local first_pauses = 0  -- delay() calls left that are connections' first pauses
local readers, members, tickets = {}, {}, {}
local coop, exchange_body
bad, dry = 0, 0

function setup(thread) common.setup(thread) end

local function split_all(lines)
  local out = {}
  for i, line in ipairs(lines) do out[i] = common.split(line) end
  return out
end

function init(_args)
  local n = tonumber(common.env("BENCH_THREADS", "1"))
  math.randomseed(os.time() + id * 7919)
  interval = tonumber(common.env("BENCH_INTERVAL_MS", "1000"))
  first_pauses = math.ceil(tonumber(common.env("BENCH_CONNS", "1")) / n)
  for name, weight in common.env("BENCH_MIX", "userinfo=1"):gmatch("(%w+)=(%d+)") do
    total = total + tonumber(weight)
    mix[#mix + 1] = { name = name, upto = total }
  end
  readers = split_all(common.load_pool(id, n, "BENCH_READERS"))
  members = split_all(common.load_pool(id, n, "BENCH_MEMBERS"))
  pool = common.load_pool(id, n)
  coop = common.env("BENCH_COOP", "")
  exchange_body = common.env("BENCH_EXCHANGE_BODY", "")
end

-- Every connection connects at the start and asks for its first pause before any answer
-- arrives, so the first calls are the first pauses.
function delay()
  if first_pauses > 0 then
    first_pauses = first_pauses - 1
    return math.random() * interval
  end
  return (0.5 + math.random()) * interval
end

local function pick(list) return list[math.random(#list)] end

local function bearer(method, path, token, body)
  local headers = { ["Authorization"] = "Bearer " .. token }
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, path, headers, body)
end

local ops = {
  userinfo = function()
    return bearer("GET", "/oauth/userinfo", pick(readers)[1])
  end,
  fetch = function()
    local r = pick(readers)
    return bearer("GET", "/access/get-encrypted-data/" .. r[2] .. "/" .. coop, r[1])
  end,
  card = function()
    return bearer("GET", "/card", pick(members)[1])
  end,
  share = function()
    local m = pick(members)
    return bearer("POST", "/access/share-data", m[1], m[2])
  end,
  refresh = function()
    local token = table.remove(pool)
    if token == nil then return nil end
    return wrk.format("POST", "/auth/refresh-token", { ["Content-Type"] = "application/json" },
                      '{"refreshToken":"' .. token .. '"}')
  end,
  exchange = function()
    local ticket = table.remove(tickets)
    if ticket == nil then return nil end
    return wrk.format("POST", "/oauth/token",
                      { ["Content-Type"] = "application/x-www-form-urlencoded" },
                      common.fill(exchange_body, { ticket }))
  end,
}

function request()
  local roll = math.random() * total
  for _, op in ipairs(mix) do
    if roll <= op.upto then
      return ops[op.name]() or ops.userinfo()
    end
  end
  return ops.userinfo()
end

function response(status, _headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    return
  end
  local fresh = body:match('"refreshToken"%s*:%s*"([^"]+)"')
  if fresh then
    pool[#pool + 1] = fresh
    return
  end
  local ticket = body:match('"ticket"%s*:%s*"([^"]+)"')
  if ticket then tickets[#tickets + 1] = ticket end
end

function done(summary, latency, _requests) common.done(summary, latency) end
