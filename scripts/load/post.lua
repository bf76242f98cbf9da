-- wrk script: POSTs the JSON bodies of the file $BODIES (one per line) in turn, as $TOKEN.
-- Each thread starts at its own place in the file. "@N@" in a body becomes an ID unique across
-- threads and runs ($RUN): the source record IDs of shot reports.
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
local run = os.getenv("RUN") or "0"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

function request()
  sent = sent + 1
  local at = (tid * 100003 + sent) % #bodies + 1
  local body = bodies[at]:gsub("@N@", run .. "-" .. tostring(tid) .. "-" .. tostring(sent))
  return wrk.format(nil, nil, nil, body)
end
