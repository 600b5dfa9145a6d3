-- LCIC DescribeUser of every seeded user in turn, pre-signed (TC3).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("lcic").script("DescribeUser", "describe")
