-- Prepended to every script (zaqar/storage/redis/scripts.py).
--
-- KEYS: one scope's keys, in the order of zaqar/storage/redis/keys.py ScopeKeys (on a
-- Redis Cluster, its own keys only).
-- ARGV[1]: "now", from the driver's clock: every expiry decision is made against it,
-- never against the Redis server's clock.
--
-- Times are doubles. Never turn one into text with tostring() or "..": that keeps 14
-- digits. Numbers given to redis.call() keep all 17, so pass them as numbers, or as text
-- made by exact() (once for a score given many times: each number redis.call() converts
-- costs Redis a printf), or pass text the driver made with repr() (ARGV[1] itself, as
-- AFTER_NOW does; the post script gets its times so).
--
-- A message's state (STATES, msgpack map):
--   c  created            e  expires (claims push it to claim end + grace)
--   v  visible from (0 when posted without delay)
--   k  client id of the poster
--   ci claim id, ce claim end (absent when never claimed or released)
--   n  times claimed      h  checksum (absent when none)
local MESSAGE_IDS, MESSAGES, BODIES, STATES = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local EXPIRIES, FREE, DELAYED, CLAIMED = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local CLAIMS, CLAIM_EXPIRIES = KEYS[9], KEYS[10]
local SUBSCRIPTIONS, SUBSCRIBERS, SUBSCRIPTION_EXPIRIES = KEYS[11], KEYS[12], KEYS[13]
local DEAD_LETTERS, DEAD_LETTER_SOURCES, QUEUE_MARKER = KEYS[14], KEYS[15], KEYS[16]
-- The global and per-project keys: nil on a Redis Cluster, where a script gets the
-- scope's own keys only (one hash slot) and the driver writes these itself.
local QUEUE_NAMES, QUEUE_METADATA, SCOPES = KEYS[17], KEYS[18], KEYS[19]
local MESSAGE_ID_FLOOR, SUBSCRIBED_SCOPES = KEYS[20], KEYS[21]
local SCOPE_WIDTH = 21  -- keys per scope on a single server (a second scope follows)

local NOW = tonumber(ARGV[1])
local AFTER_NOW = '(' .. ARGV[1]
local BATCH = 100
-- Message and claim keys expire on their own this long after the last thing in them
-- does: a safety net should garbage collection never run. Relative, so it holds under
-- any clock the driver uses.
local SAFETY_MARGIN = 3600

-- A number as text with all its digits: what redis.call() makes of it.
local function exact(number)
    return string.format('%.17g', number)
end

local function load_state(id)
    local raw = redis.call('HGET', STATES, id)
    if raw then return cmsgpack.unpack(raw) end
    return nil
end

local function save_state(id, state)
    redis.call('HSET', STATES, id, cmsgpack.pack(state))
end

local function claim_is_live(state)
    return state.ce ~= nil and state.ce > NOW
end

local function is_free(state)
    -- Live, visible and held by no live claim: what a claim or a pop may take.
    return state.e > NOW and state.v <= NOW and not claim_is_live(state)
end

-- redis.call(command, key, ...args) in pieces of BATCH groups of `width` arguments
-- (field and value: 2): Lua's unpack() takes a few thousand values at most.
local function call_in_pieces(command, key, args, width)
    local piece = BATCH * width
    for start = 1, #args, piece do
        redis.call(command, key, unpack(args, start, math.min(start + piece - 1, #args)))
    end
end

-- Remove messages from every structure; ids that are not stored are no error.
local function remove_messages(ids)
    for _, hash in ipairs({STATES, BODIES}) do call_in_pieces('HDEL', hash, ids, 1) end
    for _, index in ipairs({MESSAGES, EXPIRIES, FREE, DELAYED, CLAIMED}) do
        call_in_pieces('ZREM', index, ids, 1)
    end
end

-- Messages whose delay or claim ended become candidates of claims and pops again.
-- Returns true when any did (FREE then holds messages the caller knows nothing of).
local function release_due()
    local released = false
    for _, index in ipairs({DELAYED, CLAIMED}) do
        local due = redis.call('ZRANGEBYSCORE', index, '-inf', ARGV[1])
        if #due > 0 then
            local scored = {}
            for i, id in ipairs(due) do scored[2 * i - 1], scored[2 * i] = id, id end
            call_in_pieces('ZADD', FREE, scored, 2)
            redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[1])
            released = true
        end
    end
    return released
end

-- Up to `limit` free messages, oldest first, taken out of FREE: their ids, states
-- (decoded) and states as stored. Expired ones met on the way leave FREE too (garbage
-- collection removes them); ones a process with a later clock released early stay until
-- they are free by ours. Reads as few candidates as the limit needs, more when some
-- are passed over.
local function take_free(limit)
    local taken, states, raws, removed = {}, {}, {}, {}
    local offset, window = 0, limit
    while #taken < limit do
        local ids = redis.call('ZRANGE', FREE, offset, offset + window - 1)
        if #ids == 0 then break end
        local found = redis.call('HMGET', STATES, unpack(ids))
        for i, id in ipairs(ids) do
            local state = found[i] and cmsgpack.unpack(found[i])
            if not state or state.e <= NOW then
                removed[#removed + 1] = id
            elseif is_free(state) then
                local n = #taken + 1
                taken[n], states[n], raws[n] = id, state, found[i]
                removed[#removed + 1] = id
                if #taken == limit then break end
            end
        end
        offset = offset + #ids
        window = math.min(window * 2, BATCH)
    end
    call_in_pieces('ZREM', FREE, removed, 1)
    return taken, states, raws
end

-- id, state, body of each message, flat: what the Python side decodes. `states`: the
-- states as stored, when the caller has them already.
local function message_triples(ids, states)
    if #ids == 0 then return {} end
    states = states or redis.call('HMGET', STATES, unpack(ids))
    local bodies = redis.call('HMGET', BODIES, unpack(ids))
    local out = {}
    for i, id in ipairs(ids) do
        out[#out + 1] = id
        out[#out + 1] = states[i]
        out[#out + 1] = bodies[i]
    end
    return out
end

-- Keep the safety-net expiry of `keys` at least half the margin beyond `last` (the
-- latest time anything in them lives until, in the driver's clock): when it is shorter,
-- push it to the whole margin beyond. Never shortened; renewed about once per half
-- margin under steady traffic, not on every call.
local function keep_keys_alive(keys, last)
    if last == nil then return end
    local ms = math.ceil((last - NOW + SAFETY_MARGIN) * 1000)
    local enough = ms - SAFETY_MARGIN * 500
    for _, key in ipairs(keys) do
        local current = redis.call('PTTL', key)
        if current ~= -2 and current < enough then redis.call('PEXPIRE', key, ms) end
    end
end

local function latest(index)
    local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
    if #last == 0 then return nil end
    return tonumber(last[2])
end

-- Called by every script that may create a message or claim key, after its writes.
-- `last`: the latest time anything it added to them, or made live longer, lives until;
-- what they held before was covered when it was written, so that is enough. Without
-- it (nil), the latest of everything in them is looked up.
local function keep_messages_alive(last)
    if last == nil then
        local last_claim = latest(CLAIM_EXPIRIES)
        last = latest(EXPIRIES)
        if last == nil or (last_claim ~= nil and last_claim > last) then last = last_claim end
    end
    keep_keys_alive({MESSAGES, BODIES, STATES, EXPIRIES, FREE, DELAYED, CLAIMED, CLAIMS,
                     CLAIM_EXPIRIES}, last)
end

local function keep_subscriptions_alive()
    keep_keys_alive({SUBSCRIPTIONS, SUBSCRIBERS, SUBSCRIPTION_EXPIRIES},
                    latest(SUBSCRIPTION_EXPIRIES))
end

