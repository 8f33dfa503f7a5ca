-- wrk script: one draw per request, a fresh request id each time, 10,000 users.
-- The shared bench's draw.lua, with one change: each wrk thread (and each wrk
-- run) gets a prefix of its own. There, `tid` in init() is the chunk's local
-- (always 0) and math.random is never seeded, so both threads, and the warm-up
-- and the measured run, send the same request ids: about half the requests
-- are replays of a draw already made. Run it with bench/draws-unique.sh;
-- bench/hot-award.sh runs it with CAMPAIGN (default `bench`) and SERVER (one
-- prefix per server it drives) set.
local counter = 0
local tid = 0
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  local me = rawget(_G, "tid") or 0
  local server = tonumber(os.getenv("SERVER")) or 0
  math.randomseed(os.time() * 100 + me + server * 7)
  prefix = string.format("s%d-w%d-%d-", server, me, math.random(1, 1e9))
  path = "/v1/campaigns/" .. (os.getenv("CAMPAIGN") or "bench") .. "/draws"
end
request = function()
  counter = counter + 1
  local user = (counter * 7919) % 10000
  local body = string.format('{"user":"u%d","request_id":"%s%d"}', user, prefix, counter)
  return wrk.format("POST", path,
    { ["Authorization"] = "Bearer tbk_dev", ["Content-Type"] = "application/json" }, body)
end
local non2xx = 0
response = function(status, headers, body)
  if status ~= 200 then non2xx = non2xx + 1 end
end
