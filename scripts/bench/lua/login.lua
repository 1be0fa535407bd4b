-- POST /auth/login with the right password of one of several users; args are
-- the ready-made JSON bodies, one per user.
local report = require "report"
setup = report.setup
done = report.done

local bodies = {}
local headers = { ["Content-Type"] = "application/json" }

function init(args)
  report.seed()
  for i = 1, #args do
    bodies[#bodies + 1] = args[i]
  end
end

function request()
  return wrk.format("POST", "/auth/login", headers, bodies[math.random(#bodies)])
end
