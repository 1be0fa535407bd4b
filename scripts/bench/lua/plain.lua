-- The same request over and over: the URL given to wrk (path and query).
local report = require "report"
setup = report.setup
done = report.done
