-- Delete a subscription, live or expired; a missing one is no error.
-- ARGV: now, id, scope member.
local id = ARGV[2]
local raw = redis.call('HGET', SUBSCRIPTIONS, id)
if raw then forget_subscription(id, cmsgpack.unpack(raw)) end
return 0
