-- What every bench/wrk script shares (bench/side_by_side.py runs them, issue #10).
--
-- Configuration comes from the environment, so that one script serves both sides:
--   BENCH_POOL      file of items, one a line, fields separated by tabs; thread i of n takes
--                   lines i, i+n, ... (no two threads ever send the same single-use item)
--   BENCH_POOL_OUT  where done() writes the items left (rotated refresh tokens, unused tickets)
--   BENCH_THREADS   wrk's -t; BENCH_CONNS wrk's -c
--   BENCH_METHOD, BENCH_PATH, BENCH_BODY, BENCH_AUTH, BENCH_CONTENT_TYPE   the request, where
--                   {1}, {2}, ... stand for the item's fields
--   BENCH_DRY_DIR   a thread whose pool runs dry writes a file there: wrk's main thread sleeps
--                   the whole -d whatever its threads do, so the Python side interrupts it
--                   (SIGINT) once every thread is dry and the run's duration stays true
-- done() prints one line "BENCH {json}" that the Python side parses.
local M = {}

local threads = {}

function M.env(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then return default end
  return value
end

function M.split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
  return fields
end

function M.fill(template, fields)
  if template == nil then return nil end
  return (template:gsub("{(%d+)}", function(i) return fields[tonumber(i)] or "" end))
end

-- The thread's share of the pool file, as raw lines (thread:get copies only plain values).
function M.load_pool(id, nthreads, variable)
  local pool, n = {}, 0
  local path = M.env(variable or "BENCH_POOL")
  if path == nil then return pool end
  for line in io.lines(path) do
    if line ~= "" then
      if n % nthreads == id then pool[#pool + 1] = line end
      n = n + 1
    end
  end
  return pool
end

-- One HTTP request for an item, from the BENCH_* templates.
function M.format(line)
  local fields = M.split(line)
  local headers = {}
  local auth = M.fill(M.env("BENCH_AUTH"), fields)
  if auth then headers["Authorization"] = auth end
  local body = M.fill(M.env("BENCH_BODY"), fields)
  if body then headers["Content-Type"] = M.env("BENCH_CONTENT_TYPE", "application/json") end
  return wrk.format(M.env("BENCH_METHOD", "GET"), M.fill(M.env("BENCH_PATH", "/"), fields),
                    headers, body)
end

-- The thread has nothing left to send: stop it and tell the Python side.
function M.run_dry()
  dry = 1
  wrk.thread:stop()
  local dir = M.env("BENCH_DRY_DIR")
  local file = dir and io.open(dir .. "/" .. id, "w")
  if file then file:close() end
end

function M.setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function M.done(summary, latency)
  local bad, dry, left = 0, 0, 0
  local out = M.env("BENCH_POOL_OUT")
  local file = out and io.open(out, "w")
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("bad") or 0)
    dry = dry + (thread:get("dry") or 0)
    local pool = thread:get("pool") or {}
    left = left + #pool
    if file then
      for _, line in ipairs(pool) do file:write(line, "\n") end
    end
  end
  if file then file:close() end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"bad":%d,"connect":%d,' ..
    '"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"dry_threads":%d,"pool_left":%d}\n',
    summary.requests, summary.duration, e.status, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    dry, left))
end

return M
