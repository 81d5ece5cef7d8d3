-- wrk script: POST /v1/checks, cycling through the benchmark sites (all, or one bucket's).
--
--   wrk -t2 -c8 -d20s --latency -s wrk_checks.lua http://127.0.0.1:PORT/v1/checks -- BODIES [AUTHORIZATION]
--
-- BODIES has one request body a line (the sites' GeoJSON Features, as sent by
-- lib/http_answers.py too). Each thread starts at a different site, so the threads
-- do not all ask for the same site at once. With AUTHORIZATION (e.g. "Bearer <JWT>"),
-- every request carries it as its Authorization header; without it, none does.
--
-- wrk itself only counts 4xx/5xx as errors; issue 4's API answers 201, so the script counts
-- every status outside 2xx itself, and done() prints one line, `WRK_JSON {...}`, that
-- bench/run keeps: requests, duration, latency percentiles (microseconds) and errors.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   bodies = {}
   for line in io.lines(args[1]) do
      if #line > 0 then bodies[#bodies + 1] = line end
   end
   if #bodies == 0 then error("wrk_checks.lua: no request bodies in " .. tostring(args[1])) end
   next_body = (id * 37) % #bodies      -- 37, a prime: spreads the threads' starting sites
   non2xx = 0
   first_bad_status = 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if args[2] and args[2] ~= "" then wrk.headers["Authorization"] = args[2] end
end

function request()
   next_body = next_body % #bodies + 1
   return wrk.format(nil, nil, nil, bodies[next_body])
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_bad_status == 0 then first_bad_status = status end
   end
end

function done(summary, latency, requests)
   local non2xx, bad = 0, 0
   for _, t in ipairs(threads) do
      non2xx = non2xx + t:get("non2xx")
      if bad == 0 then bad = t:get("first_bad_status") end
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "first_non2xx_status": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"min": %d, "mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes, non2xx, bad,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
