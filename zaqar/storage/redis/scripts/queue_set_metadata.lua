-- Replace a queue's metadata whole; runs alone (no common.lua), on one key, so that
-- it runs on a cluster as it does on a single server.
-- KEYS: the project's queue-metadata hash. ARGV: now, queue name, metadata (JSON).
-- Returns 0 when the queue does not exist, else 1.
local QUEUE_METADATA = KEYS[1]
if redis.call('HEXISTS', QUEUE_METADATA, ARGV[2]) == 0 then return 0 end
redis.call('HSET', QUEUE_METADATA, ARGV[2], ARGV[3])
return 1
