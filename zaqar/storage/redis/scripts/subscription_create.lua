-- Create a subscription unless a live one has the same subscriber.
-- ARGV: now, subscription id, subscriber, ttl, options (JSON), scope member.
-- Returns 1, or 0 when the subscriber is taken.
local id, subscriber, ttl, options = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if not subscriber_is_free(subscriber, id) then return 0 end
redis.call('HSET', SUBSCRIBERS, subscriber, id)
redis.call('HSET', SUBSCRIPTIONS, id, cmsgpack.pack(
    {s = subscriber, t = ttl, c = NOW, e = NOW + ttl, o = options, ok = false}))
redis.call('ZADD', SUBSCRIPTION_EXPIRIES, NOW + ttl, id)
redis.call('SADD', SCOPES, ARGV[6])
keep_subscriptions_alive()
return 1
