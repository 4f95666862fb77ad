-- wrk script for benchmarks/bench_http.py: rotate over many request paths
-- (one per line in the file named by the first script argument), so the load
-- is a realistic mix of readers' questions rather than one query repeated,
-- and count the responses by HTTP status, so a run full of 4xx/5xx answers
-- (which are fast and would flatter requests/s) is never mistaken for a good one.
--
--   wrk -t2 -c16 -d20s --latency -s benchmarks/wrk_queries.lua \
--       http://127.0.0.1:8765 -- paths.txt 2
--
-- Arguments after "--": the paths file and wrk's thread count (-t), which
-- spreads the threads' starting points over the list.
--
-- For the unique-query load every line is a different question: thread i
-- starts at i/threads of the list, so no request repeats one already sent
-- as long as no thread sends more than #paths/threads requests. The
-- "requests per thread" line lets bench_http.py check that.

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      if #line > 0 then
         paths[#paths + 1] = line
      end
   end
   if #paths == 0 then
      error("no request paths in " .. tostring(args[1]))
   end
   local nthreads = tonumber(args[2]) or 1
   position = math.floor(id * #paths / nthreads)  -- `id` was set by setup()
   codes = {}
   sent = 0
end

function request()
   position = position % #paths + 1
   sent = sent + 1
   return wrk.format("GET", paths[position])
end

function response(status, headers, body)
   codes[status] = (codes[status] or 0) + 1
end

-- Two lines that bench_http.py parses: "status codes: 200=5120 429=3" and
-- "requests per thread: 2561 2562 of 20000 paths"
function done(summary, latency, requests)
   local total = {}
   local per_thread = {}
   local npaths = 0
   for _, thread in ipairs(threads) do
      per_thread[#per_thread + 1] = tostring(thread:get("sent") or 0)
      npaths = #(thread:get("paths") or {})
      for status, n in pairs(thread:get("codes") or {}) do
         total[status] = (total[status] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(total) do
      parts[#parts + 1] = string.format("%d=%d", status, n)
   end
   table.sort(parts)
   io.write("status codes: " .. table.concat(parts, " ") .. "\n")
   io.write("requests per thread: " .. table.concat(per_thread, " ") .. " of " .. npaths .. " paths\n")
end
