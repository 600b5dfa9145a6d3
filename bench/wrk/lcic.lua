-- Sends the pre-signed LCIC requests of one data file in turn, each once.
local c = require("common")

local L = {}

function L.script(action, name)
   setup, response, done = c.setup, c.response, c.done
   local reqs, next = nil, 1
   function init(args)
      reqs = c.load(args, name)
   end
   function request()
      if next > #reqs then
         next, exhausted = 1, exhausted + 1
      end
      local r = reqs[next]
      next = next + 1
      return wrk.format("POST", "/", {
         ["Content-Type"] = "application/json",
         ["X-TC-Action"] = action,
         ["X-TC-Version"] = "2022-08-17",
         ["X-TC-Timestamp"] = r[1],
         ["Authorization"] = r[2],
      }, r[3])
   end
end

return L
