-- LCIC RegisterUser with a new OriginId each, pre-signed (TC3): one
-- durable write each.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("lcic").script("RegisterUser", "register")
