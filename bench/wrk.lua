-- wrk script for bench.run: cycles through the requests in $BENCH_REQUESTS and writes a JSON
-- summary to $BENCH_OUT. Each line is "lane<TAB>METHOD<TAB>path<TAB>body" (body may be empty).
-- Thread n uses the lines of lane (n mod lanes), so writers in different threads never touch
-- the same item.

local counter = 0

function setup(thread)
  thread:set("lane", counter)
  counter = counter + 1
end

function init(args)
  local headers = { ["Content-Type"] = "application/json" }
  local given = os.getenv("BENCH_HEADERS")
  if given and given ~= "" then
    -- "Name: value" lines (bench.compare: another server's own authentication header).
    for header in given:gmatch("[^\n]+") do
      local name, value = header:match("^([^:]+):%s*(.*)$")
      if name then headers[name] = value end
    end
  else
    headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
  end
  local lines = {}
  local lanes = 0
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local l, method, path, body = line:match("^(%d+)\t(%u+)\t([^\t]+)\t?(.*)$")
    l = tonumber(l)
    if l + 1 > lanes then lanes = l + 1 end
    table.insert(lines, {l, method, path, body})
  end
  local mine = lane % lanes
  prepared = {}
  for _, entry in ipairs(lines) do
    if entry[1] == mine then
      local body = nil
      if entry[4] ~= "" then body = entry[4] end
      table.insert(prepared, wrk.format(entry[2], entry[3], headers, body))
    end
  end
  -- Threads reading the same lane start at different places in it.
  position = (lane * 7) % #prepared
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function done(summary, latency, requests)
  local errors = summary.errors
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(99),
    latency.mean, latency.max))
  out:close()
end
