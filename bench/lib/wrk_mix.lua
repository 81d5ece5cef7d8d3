-- wrk script: a fixed list of requests, cycled through by every connection.
--
--   wrk -t2 -c8 -d60s --latency -s wrk_mix.lua http://127.0.0.1:PORT -- REQUESTS [gzip|plain] [KEY]
--
-- REQUESTS has one request a line: METHOD<TAB>PATH[<TAB>BODY]. A body is sent as
-- application/json. With "gzip", every request says `Accept-Encoding: gzip`, as browsers
-- and MapLibre do. With KEY, every request carries `Authorization: Bearer KEY`. Each thread
-- starts at a different line.
--
-- wrk only counts 4xx/5xx as errors, and cannot tell which request a response answers
-- when a thread holds several connections; so the script counts every status outside 2xx
-- itself (204 for an empty tile is a 2xx: a success), with a count per status code, and
-- done() prints one line, `WRK_JSON {...}`: requests, duration, latency percentiles
-- (microseconds), non-2xx and the statuses seen.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   reqs = {}
   local gzip = args[2] == "gzip"
   for line in io.lines(args[1]) do
      if #line > 0 then
         local method, path, body = line:match("^([^\t]+)\t([^\t]+)\t?(.*)$")
         if not method then error("wrk_mix.lua: bad line: " .. line) end
         local headers = {}
         if gzip then headers["Accept-Encoding"] = "gzip" end
         if args[3] and args[3] ~= "" then headers["Authorization"] = "Bearer " .. args[3] end
         if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
         reqs[#reqs + 1] = wrk.format(method, path, headers, body)
      end
   end
   if #reqs == 0 then error("wrk_mix.lua: no requests in " .. tostring(args[1])) end
   nxt = (id * 7919) % #reqs
   non2xx = 0
   statuses = {}
end

function request()
   nxt = nxt % #reqs + 1
   return reqs[nxt]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local total_non2xx = 0
   local codes = {}
   for _, t in ipairs(threads) do
      total_non2xx = total_non2xx + t:get("non2xx")
      local s = t:get("statuses")
      for code, n in pairs(s) do codes[code] = (codes[code] or 0) + n end
   end
   local parts = {}
   for code, n in pairs(codes) do parts[#parts + 1] = string.format('"%d": %d', code, n) end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "statuses": {%s}, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes, total_non2xx, table.concat(parts, ", "),
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
