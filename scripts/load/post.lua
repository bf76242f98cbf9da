-- wrk script: POSTs the JSON bodies of the file $BODIES (one per line) in turn, as $TOKEN.
-- "@N@" in a body becomes a number unique across threads (source record IDs of shot reports).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local bodies = {}
for line in io.lines(os.getenv("BODIES")) do
  bodies[#bodies + 1] = line
end
local sent = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

function request()
  sent = sent + 1
  local body = bodies[(sent % #bodies) + 1]:gsub("@N@", tostring(tid) .. "-" .. tostring(sent))
  return wrk.format(nil, nil, nil, body)
end
