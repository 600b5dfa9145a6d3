-- GET /lookup/{id} of a random row of the lookup baseline that
-- `usercenter bench --serve-baseline ADDR --users ROWS` serves: the bare
-- lookup the scenarios are compared with, measured by wrk itself.
--   wrk -t T -c C -d D -s bench/wrk/lookup.lua http://ADDR -- ROWS
local rows
failed = 0

function init(args)
   rows = tonumber(args[1])
   if not rows or rows < 1 then
      error("pass the table's row count: -- ROWS")
   end
   math.randomseed(id * 7919 + os.time())
end

function request()
   return wrk.format("GET", "/lookup/" .. math.random(rows))
end

function response(status, headers, body)
   if status ~= 200 then
      failed = failed + 1
   end
end

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function done(summary, latency, requests)
   local f = 0
   for _, t in ipairs(threads) do
      f = f + t:get("failed")
   end
   io.write(string.format("failed (status): %d of %d\n", f, summary.requests))
end
