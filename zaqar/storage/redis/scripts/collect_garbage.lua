-- Remove a scope's expired messages, claims and subscriptions, up to `batch` of each.
-- ARGV: now, batch, queue name, scope member.
-- Returns {removed, more, subscribed, dead letters, registered}: more is 1 when a batch
-- was full (run again); subscribed is 1 while the scope holds subscriptions; dead
-- letters counts those waiting in DEAD_LETTERS, registered is 1 while QUEUE_MARKER is
-- there (a cluster's: the driver goes on from them).
-- A scope with neither a queue nor subscriptions leaves SCOPES (on a cluster, where
-- SCOPES is nil here, the driver sees to that).
local batch, queue, scope = tonumber(ARGV[2]), ARGV[3], ARGV[4]
local removed, more = 0, 0

local function expired(index)
    local ids = redis.call('ZRANGEBYSCORE', index, '-inf', NOW, 'LIMIT', 0, batch)
    if #ids == batch then more = 1 end
    removed = removed + #ids
    return ids
end

remove_messages(expired(EXPIRIES))
local claims = expired(CLAIM_EXPIRIES)
call_in_pieces('HDEL', CLAIMS, claims, 1)
call_in_pieces('ZREM', CLAIM_EXPIRIES, claims, 1)
for _, id in ipairs(expired(SUBSCRIPTION_EXPIRIES)) do
    local raw = redis.call('HGET', SUBSCRIPTIONS, id)
    if raw then
        local subscriber = cmsgpack.unpack(raw).s
        if redis.call('HGET', SUBSCRIBERS, subscriber) == id then
            redis.call('HDEL', SUBSCRIBERS, subscriber)
        end
        redis.call('HDEL', SUBSCRIPTIONS, id)
    end
    redis.call('ZREM', SUBSCRIPTION_EXPIRIES, id)
end

-- Dead letters moved in long enough ago (see dead_letters.py for why the margin).
redis.call('ZREMRANGEBYSCORE', DEAD_LETTER_SOURCES, '-inf', NOW - SAFETY_MARGIN)

local subscribed = redis.call('EXISTS', SUBSCRIPTIONS)
if SCOPES then
    if subscribed == 0 then redis.call('SREM', SUBSCRIBED_SCOPES, scope) end
    if subscribed == 0 and redis.call('HEXISTS', QUEUE_METADATA, queue) == 0 then
        redis.call('SREM', SCOPES, scope)
    end
end
return {removed, more, subscribed, redis.call('HLEN', DEAD_LETTERS),
        redis.call('EXISTS', QUEUE_MARKER)}
