-- Authenticated GETs of random ids: args = path format ("/songs/%d"), first id,
-- last id, then one or more access tokens (a random one per request, so the
-- services' token cache sees several users, as in real traffic).
local report = require "report"
setup = report.setup
done = report.done

local path_format, first, last
local tokens = {}

function init(args)
  report.seed()
  path_format = args[1]
  first, last = tonumber(args[2]), tonumber(args[3])
  for i = 4, #args do
    tokens[#tokens + 1] = "Bearer " .. args[i]
  end
end

function request()
  local headers = { Authorization = tokens[math.random(#tokens)] }
  return wrk.format("GET", string.format(path_format, math.random(first, last)), headers)
end
