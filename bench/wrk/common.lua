-- Shared by the scripts of bench/wrk. Each script is run as
--   wrk -t T -c C -d D -s bench/wrk/NAME.lua URL -- DATA_DIR T
-- where DATA_DIR is what `usercenter bench --target URL --emit-wrk DATA_DIR`
-- wrote and T is wrk's thread count again (a thread cannot learn it).
-- A request counts as failed on a status other than 200 or, for LCIC,
-- on an error in the envelope; wrk's own "Non-2xx" line sees only the
-- former, so done() prints the count.
local M = {}

local threads = {}

function M.setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

-- load returns the lines of the data file NAME.txt that this thread uses,
-- each split at tabs: every T-th from its id, so that no two threads send
-- the same one.
function M.load(args, name)
   local dir, nthreads = args[1], tonumber(args[2])
   if not dir or not nthreads then
      error("pass the data directory and the thread count: -- DATA_DIR T")
   end
   local mine, i = {}, 0
   for line in io.lines(dir .. "/" .. name .. ".txt") do
      if i % nthreads == id then
         local fields = {}
         for f in line:gmatch("[^\t]+") do
            fields[#fields + 1] = f
         end
         mine[#mine + 1] = fields
      end
      i = i + 1
   end
   if #mine == 0 then
      error(dir .. "/" .. name .. ".txt has nothing for thread " .. id)
   end
   return mine
end

failed = 0
exhausted = 0

function M.response(status, headers, body)
   if status ~= 200 or body:find('"Error"', 1, true) then
      failed = failed + 1
   end
end

function M.done(summary, latency, requests)
   local f, x = 0, 0
   for _, t in ipairs(threads) do
      f = f + t:get("failed")
      x = x + t:get("exhausted")
   end
   io.write(string.format("failed (status or envelope error): %d of %d\n", f, summary.requests))
   if x > 0 then
      io.write(string.format("the pre-signed requests were all sent and started over %d times (a RegisterUser sent again fails): emit more with --requests\n", x))
   end
end

return M
