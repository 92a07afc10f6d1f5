-- wrk script for bench/ingest: POST Alertmanager webhook bodies built from a plan file.
--
-- Bodies are generated here (not pre-rendered) so that every request can carry a new alert
-- group without wrk holding megabytes of bodies: onwatch is idempotent, so re-sending the
-- same body would measure a no-op. The plan file is written by bench/ingest.py, which
-- implements the same algorithm for its Python load generator:
--   line 1: phase number (0-15), line 2: number of steps S, then S lines "<kind> <lag>",
--   then one line per template: "<kind> <compact JSON with @G@ placeholders>".
-- A step with lag 0 starts a new group; lag N re-uses the group started N new groups ago.
-- The group token "@G@" is 8 hex digits: phase, wrk thread, group counter.

local threads = {}
local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
   table.insert(threads, thread)
end

local path = "/api/v1/alertmanager"
local headers = {
   ["Content-Type"] = "application/json",
   ["Authorization"] = "Bearer bench-token",
   ["User-Agent"] = "Alertmanager/0.25.0",
}
local phase, steps, templates
local step_index = 0

-- read by done() through thread:get()
statuses = {}
samples = {}
fresh = 0

-- Split once at start-up: joining the pieces per request is a plain copy, much cheaper than
-- gsub over a 70 KB template, so wrk stays far from being the bottleneck.
local function split(text, separator)
   local parts, start = {}, 1
   while true do
      local first, last = text:find(separator, start, true)
      if not first then
         table.insert(parts, text:sub(start))
         return parts
      end
      table.insert(parts, text:sub(start, first - 1))
      start = last + 1
   end
end

local function read_plan(plan_path)
   local file = assert(io.open(plan_path, "r"))
   local plan_phase = tonumber(file:read("*l"))
   local count = tonumber(file:read("*l"))
   local plan_steps = {}
   for i = 1, count do
      local kind, lag = file:read("*l"):match("^(%S+) (%d+)$")
      plan_steps[i] = { kind = kind, lag = tonumber(lag) }
   end
   local plan_templates = {}
   for line in file:lines() do
      local kind, body = line:match("^(%S+) (.*)$")
      plan_templates[kind] = plan_templates[kind] or {}
      table.insert(plan_templates[kind], split(body .. "\n", "@G@")) -- bodies end with \n
   end
   file:close()
   return plan_phase, plan_steps, plan_templates
end

function init(args)
   phase, steps, templates = read_plan(args[1])
end

function request()
   local step = steps[step_index % #steps + 1]
   step_index = step_index + 1
   local group
   if step.lag == 0 then
      fresh = fresh + 1
      group = fresh
   else
      group = fresh - step.lag
      if group < 1 then
         group = fresh
      end
   end
   local variants = templates[step.kind]
   local template = variants[group % #variants + 1]
   local token = string.format("%x%x%06x", phase, tid, group)
   local body = table.concat(template, token)
   return wrk.format("POST", path, headers, body)
end

function response(status, _headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if (status < 200 or status > 299) and samples[status] == nil then
      samples[status] = body:sub(1, 300):gsub("[\r\n]", " ")
   end
end

function done(summary, latency, _requests)
   local counts, groups = {}, 0
   for _, thread in ipairs(threads) do
      for code, text in pairs(thread:get("samples")) do
         io.write(string.format("BENCH_SAMPLE %d %s\n", code, text))
      end
      for code, n in pairs(thread:get("statuses")) do
         counts[code] = (counts[code] or 0) + n
      end
      groups = groups + thread:get("fresh")
   end
   local parts = {}
   for code, n in pairs(counts) do
      table.insert(parts, string.format('"%d":%d', code, n))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,'
         .. '"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p99":%d,'
         .. '"max":%d},"statuses":{%s},"fresh_groups":%d}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.max,
      table.concat(parts, ","), groups))
end
