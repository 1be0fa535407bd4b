-- An audio player's buffering: one file pulled in fixed-size Range requests,
-- first byte to last, then again from the start. The URL given to wrk is the
-- file's (a signed URL's query included). args = chunk bytes, file size in bytes,
-- then an optional Authorization header value.
--
-- No response() here: with one defined, wrk copies every body into Lua, which
-- caps it below what nginx serves. range_check.lua adds it to check the answers.
local report = require "report"
done = report.done

-- Every thread, so that range_check.lua's done() can add up their counts.
threads = {}
function setup(thread)
  report.setup(thread)
  threads[#threads + 1] = thread
end

local chunk, size, authorization
local offset = 0

function init(args)
  report.seed()
  chunk, size = tonumber(args[1]), tonumber(args[2])
  authorization = args[3]
  -- The threads start at different chunks, so that they do not read in lockstep.
  local chunks = math.ceil(size / chunk)
  offset = (((thread_number or 1) - 1) * math.floor(chunks / 2) % chunks) * chunk
end

function request()
  local last = math.min(offset + chunk, size) - 1
  local headers = { Range = "bytes=" .. offset .. "-" .. last }
  if authorization then
    headers.Authorization = authorization
  end
  offset = last + 1
  if offset >= size then
    offset = 0
  end
  return wrk.format("GET", nil, headers)
end
