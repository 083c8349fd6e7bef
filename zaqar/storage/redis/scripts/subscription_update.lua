-- Change a live subscription. ARGV: now, subscription id, then pairs of field name and
-- value: 'subscriber' (URI), 'ttl' (renewed from now), 'options' (JSON), 'confirmed'
-- ('1' or '0'), 'cursor', 'notice' ('' for none), 'record' (JSON); last, the scope
-- member. Returns 'ok', 'missing', or 'taken' (another live subscription has the new
-- subscriber); nothing is changed unless 'ok'.
local id = ARGV[2]
local subscription = load_subscription(id)
if subscription == nil then return 'missing' end
local changes = {}
for i = 3, #ARGV - 1, 2 do changes[ARGV[i]] = ARGV[i + 1] end

local subscriber = changes.subscriber
if subscriber ~= nil and subscriber ~= subscription.s then
    if not subscriber_is_free(subscriber, id) then return 'taken' end
    redis.call('HDEL', SUBSCRIBERS, subscription.s)
    redis.call('HSET', SUBSCRIBERS, subscriber, id)
    subscription.s = subscriber
end
if changes.ttl ~= nil then
    subscription.t = tonumber(changes.ttl)
    subscription.e = NOW + subscription.t
    redis.call('ZADD', SUBSCRIPTION_EXPIRIES, subscription.e, id)
end
if changes.options ~= nil then subscription.o = changes.options end
if changes.confirmed ~= nil then subscription.ok = changes.confirmed == '1' end
if changes.cursor ~= nil then subscription.dc = optional(changes.cursor) end
if changes.notice ~= nil then subscription.dn = optional(changes.notice) end
if changes.record ~= nil then subscription.dr = changes.record end
redis.call('HSET', SUBSCRIPTIONS, id, cmsgpack.pack(subscription))
keep_subscriptions_alive()
return 'ok'
