-- Create a subscription unless a live one has the same subscriber. Its delivery cursor
-- is the scope's last message id (none before the first post).
-- ARGV: now, subscription id, subscriber, ttl, options (JSON), notice ('' for none),
-- scope member. Returns 1, or 0 when the subscriber is taken.
local id, subscriber, ttl, options = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if not subscriber_is_free(subscriber, id) then return 0 end
redis.call('HSET', SUBSCRIBERS, subscriber, id)
redis.call('HSET', SUBSCRIPTIONS, id, cmsgpack.pack(
    {s = subscriber, t = ttl, c = NOW, e = NOW + ttl, o = options, ok = false,
     dc = redis.call('GET', MESSAGE_IDS) or nil, dn = optional(ARGV[6])}))
redis.call('ZADD', SUBSCRIPTION_EXPIRIES, NOW + ttl, id)
if SCOPES then  -- on a cluster the driver adds them, before and after
    redis.call('SADD', SCOPES, SCOPE_MEMBER)
    redis.call('SADD', SUBSCRIBED_SCOPES, SCOPE_MEMBER)
end
keep_subscriptions_alive()
return 1
