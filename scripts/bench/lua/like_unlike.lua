-- Like a random song, then unlike it with the same user's token: the likes
-- table stays small, and both writes (POST and DELETE) are measured.
-- args = first song id, last song id, then several users' access tokens.
local report = require "report"
setup = report.setup
done = report.done

local first, last
local tokens = {}
local sent = 0
local song, token

function init(args)
  report.seed()
  first, last = tonumber(args[1]), tonumber(args[2])
  for i = 3, #args do
    tokens[#tokens + 1] = "Bearer " .. args[i]
  end
end

function request()
  sent = sent + 1
  local method = "DELETE"
  if sent % 2 == 1 then
    method = "POST"
    song = math.random(first, last)
    token = tokens[math.random(#tokens)]
  end
  return wrk.format(method, "/songs/" .. song .. "/like", { Authorization = token })
end
