-- wrk script for bench/hot-award.sh: one draw per request on the campaign in
-- $CAMPAIGN, a request id no thread or run repeats, 10,000 users.
local counter = 0
local tid = 0
function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end
function init(args)
  local me = rawget(_G, "tid") or 0
  math.randomseed(os.time() * 100 + me + (tonumber(os.getenv("SERVER")) or 0) * 7)
  prefix = string.format("s%s-w%d-%d-", os.getenv("SERVER") or "0", me, math.random(1, 1e9))
  path = "/v1/campaigns/" .. (os.getenv("CAMPAIGN") or "hot") .. "/draws"
end
request = function()
  counter = counter + 1
  local user = (counter * 7919) % 10000
  local body = string.format('{"user":"u%d","request_id":"%s%d"}', user, prefix, counter)
  return wrk.format("POST", path,
    { ["Authorization"] = "Bearer tbk_dev", ["Content-Type"] = "application/json" }, body)
end
