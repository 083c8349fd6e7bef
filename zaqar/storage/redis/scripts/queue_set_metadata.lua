-- Replace a queue's metadata whole. ARGV: now, queue name, metadata (JSON).
-- Returns 0 when the queue does not exist, else 1.
if redis.call('HEXISTS', QUEUE_METADATA, ARGV[2]) == 0 then return 0 end
redis.call('HSET', QUEUE_METADATA, ARGV[2], ARGV[3])
return 1
