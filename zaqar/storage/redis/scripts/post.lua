-- Store a batch of messages in post order, creating the queue if needed.
-- ARGV: now, queue name, scope member, posts channel, count, the latest expiry of the
--       batch (for the safety net), then per message: body (JSON), state (msgpack),
--       expires, visible from ('' when posted without delay).
-- The driver packs the states and writes the times as exact text (repr), from the same
-- "now": packing and printing numbers was a large part of what a post cost Redis beyond
-- the writes themselves.
-- Returns the first id (0: nothing stored, see below); the batch has consecutive ids
-- from it, counted in the scope (MESSAGE_IDS; see keys.py for why it outlives the
-- queue). Announces the scope on the posts channel, last: subscribers get it once the
-- batch is stored.
local queue, scope, posts_channel = ARGV[2], ARGV[3], ARGV[4]
local count, last = tonumber(ARGV[5]), tonumber(ARGV[6])

-- On a cluster (QUEUE_METADATA nil) the driver registers the queue (QUEUE_MARKER says it
-- did) before anything is stored in it: 0 asks it to.
if not QUEUE_METADATA and redis.call('EXISTS', QUEUE_MARKER) == 0 then return 0 end
if QUEUE_METADATA and redis.call('HSETNX', QUEUE_METADATA, queue, '{}') == 1 then
    redis.call('ZADD', QUEUE_NAMES, 0, queue)
    -- A queue that exists is in SCOPES already: whatever creates one adds it, and
    -- garbage collection takes out only scopes without a queue.
    redis.call('SADD', SCOPES, scope)
end

local newest = redis.call('INCRBY', MESSAGE_IDS, count)
if newest == count and MESSAGE_ID_FLOOR then
    -- The scope's first post: go on from the floor (keys.py), where there is one.
    local floor = tonumber(redis.call('GET', MESSAGE_ID_FLOOR) or '0')
    if floor > 0 then newest = redis.call('INCRBY', MESSAGE_IDS, floor) end
end
local first = newest - count + 1
local states, bodies, ordered, expiries, free, delayed = {}, {}, {}, {}, {}, {}
for i = 0, count - 1 do
    local at = 7 + i * 4
    local id = string.format('%d', first + i)
    local n = 2 * i  -- pairs: field and value, or score and member
    states[n + 1], states[n + 2] = id, ARGV[at + 1]
    bodies[n + 1], bodies[n + 2] = id, ARGV[at]
    -- An id is its own score (in MESSAGES and FREE); ZADD reads it from the text.
    ordered[n + 1], ordered[n + 2] = id, id
    expiries[n + 1], expiries[n + 2] = ARGV[at + 2], id
    local visible = ARGV[at + 3]
    if visible == '' then
        free[#free + 1] = id
        free[#free + 1] = id
    else
        delayed[#delayed + 1] = visible
        delayed[#delayed + 1] = id
    end
end
call_in_pieces('HSET', STATES, states, 2)
call_in_pieces('HSET', BODIES, bodies, 2)
call_in_pieces('ZADD', MESSAGES, ordered, 2)
call_in_pieces('ZADD', EXPIRIES, expiries, 2)
-- Only the keys written to need their safety net renewed (see keep_messages_alive).
local written = {MESSAGES, BODIES, STATES, EXPIRIES}
if #free > 0 then
    call_in_pieces('ZADD', FREE, free, 2)
    written[#written + 1] = FREE
end
if #delayed > 0 then
    call_in_pieces('ZADD', DELAYED, delayed, 2)
    written[#written + 1] = DELAYED
end
keep_keys_alive(written, last)
redis.call('PUBLISH', posts_channel, scope)
return first
