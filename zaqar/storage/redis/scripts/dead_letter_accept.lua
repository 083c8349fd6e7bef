-- Cluster only: store dead letters taken from another queue's outbox (claim_create.lua
-- put them there; zaqar/storage/redis/dead_letters.py brings them), each at most once.
-- KEYS: the dead-letter queue's own keys.
-- ARGV: now, scope member, posts channel, then per dead letter: its source (the source
--       queue and its id there, "<queue>:<id>"), body, state (msgpack), expires.
-- A source in DEAD_LETTER_SOURCES was stored already (an earlier move stopped before
-- emptying the outbox) and one expired by now is dropped: neither is stored again.
-- Returns how many were stored, under new ids, free, announced on the posts channel.
local member, channel = ARGV[2], ARGV[3]
local sources, bodies, states, ordered, expiries, seen = {}, {}, {}, {}, {}, {}
local last = NOW
for at = 4, #ARGV, 4 do
    local source, expires = ARGV[at], tonumber(ARGV[at + 3])
    if expires > NOW and not seen[source]
            and not redis.call('ZSCORE', DEAD_LETTER_SOURCES, source) then
        seen[source] = true
        sources[#sources + 1] = {source, ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]}
        if expires > last then last = expires end
    end
end
if #sources == 0 then return 0 end

local newest = redis.call('INCRBY', MESSAGE_IDS, #sources)
local first = newest - #sources + 1
local moved = {}
for i, found in ipairs(sources) do
    local id = string.format('%d', first + i - 1)
    local n = 2 * i
    bodies[n - 1], bodies[n] = id, found[2]
    states[n - 1], states[n] = id, found[3]
    ordered[n - 1], ordered[n] = id, id
    expiries[n - 1], expiries[n] = found[4], id
    moved[n - 1], moved[n] = found[4], found[1]
end
call_in_pieces('HSET', STATES, states, 2)
call_in_pieces('HSET', BODIES, bodies, 2)
call_in_pieces('ZADD', MESSAGES, ordered, 2)
call_in_pieces('ZADD', EXPIRIES, expiries, 2)
call_in_pieces('ZADD', FREE, ordered, 2)
call_in_pieces('ZADD', DEAD_LETTER_SOURCES, moved, 2)
keep_keys_alive({MESSAGES, BODIES, STATES, EXPIRIES, FREE}, last)
keep_keys_alive({DEAD_LETTER_SOURCES}, last + SAFETY_MARGIN)
redis.call('PUBLISH', channel, member)
return #sources
