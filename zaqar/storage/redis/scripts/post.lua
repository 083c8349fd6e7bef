-- Store a batch of messages in post order, creating the queue if needed.
-- ARGV: now, queue name, scope member, client id, posts channel, count, then per
--       message: body (JSON), ttl, delay, checksum ('' for none).
-- Returns the first id; the batch has consecutive ids from it. Announces the scope on
-- the posts channel, last: subscribers get it once the batch is stored.
local queue, scope, client_id, posts_channel = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local count = tonumber(ARGV[6])

if redis.call('HSETNX', QUEUE_METADATA, queue, '{}') == 1 then
    redis.call('ZADD', QUEUE_NAMES, 0, queue)
end
redis.call('SADD', SCOPES, scope)

local first = redis.call('INCRBY', MESSAGE_IDS, count) - count + 1
local states, bodies, ordered, expiries, free, delayed = {}, {}, {}, {}, {}, {}
for i = 0, count - 1 do
    local at = 7 + i * 4
    local number = first + i
    local id = string.format('%d', number)
    local ttl, delay, checksum = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), ARGV[at + 3]
    local state = {c = NOW, e = NOW + ttl, v = 0, k = client_id, n = 0}
    if checksum ~= '' then state.h = checksum end
    if delay > 0 then
        state.v = NOW + delay
        table.insert(delayed, state.v)
        table.insert(delayed, id)
    else
        table.insert(free, number)
        table.insert(free, id)
    end
    table.insert(states, id)
    table.insert(states, cmsgpack.pack(state))
    table.insert(bodies, id)
    table.insert(bodies, ARGV[at])
    table.insert(ordered, number)
    table.insert(ordered, id)
    table.insert(expiries, state.e)
    table.insert(expiries, id)
end
call_in_pieces('HSET', STATES, states, 2)
call_in_pieces('HSET', BODIES, bodies, 2)
call_in_pieces('ZADD', MESSAGES, ordered, 2)
call_in_pieces('ZADD', EXPIRIES, expiries, 2)
call_in_pieces('ZADD', FREE, free, 2)
call_in_pieces('ZADD', DELAYED, delayed, 2)
keep_messages_alive()
redis.call('PUBLISH', posts_channel, scope)
return first
