-- Prepended to the subscription scripts, after common.lua.
--
-- A subscription (SUBSCRIPTIONS, msgpack map):
--   s subscriber URI   t ttl   c created   e expires   o options (JSON)   ok confirmed
--   dc delivery cursor (id of the last message handled; absent: none)
--   dn confirmation notice owed (absent: none)   dr delivery record (JSON; absent: {})

-- Every subscription script gets the scope member as its last argument.
local SCOPE_MEMBER = ARGV[#ARGV]

-- Text given for "none" ('') as nil, so that the field is left out.
local function optional(text)
    if text == '' then return nil end
    return text
end

-- The live subscription `id`, or nil.
local function load_subscription(id)
    local raw = redis.call('HGET', SUBSCRIPTIONS, id)
    if not raw then return nil end
    local subscription = cmsgpack.unpack(raw)
    if subscription.e <= NOW then return nil end
    return subscription
end

local function forget_subscription(id, subscription)
    if redis.call('HGET', SUBSCRIBERS, subscription.s) == id then
        redis.call('HDEL', SUBSCRIBERS, subscription.s)
    end
    redis.call('HDEL', SUBSCRIPTIONS, id)
    redis.call('ZREM', SUBSCRIPTION_EXPIRIES, id)
    -- On a cluster (no SUBSCRIBED_SCOPES) garbage collection takes the member out.
    if SUBSCRIBED_SCOPES and redis.call('EXISTS', SUBSCRIPTIONS) == 0 then
        redis.call('SREM', SUBSCRIBED_SCOPES, SCOPE_MEMBER)
    end
end

-- Whether `subscriber` may be given to subscription `id`: no live other one has it. An
-- expired one that still holds it (until garbage collection) is removed: it is dead.
local function subscriber_is_free(subscriber, id)
    local holder = redis.call('HGET', SUBSCRIBERS, subscriber)
    if not holder or holder == id then return true end
    local raw = redis.call('HGET', SUBSCRIPTIONS, holder)
    if raw then
        local twin = cmsgpack.unpack(raw)
        if twin.e > NOW then return false end
        forget_subscription(holder, twin)
    end
    return true
end

