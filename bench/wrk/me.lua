-- GET /v1/me with the Bearer token of a random logged-in seeded user.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local c = require("common")
setup, response, done = c.setup, c.response, c.done

local tokens

function init(args)
   tokens = c.load(args, "me")
   math.randomseed(id * 7919 + os.time())
end

function request()
   local t = tokens[math.random(#tokens)][1]
   return wrk.format("GET", "/v1/me", { ["Authorization"] = t })
end
