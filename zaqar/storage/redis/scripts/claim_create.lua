-- Claim up to `limit` free messages, oldest first.
-- ARGV: now, claim id, ttl, grace, limit; with a dead-letter queue (storage.base.DeadLetter)
--       also its max claims, its TTL ('' for none), its name, its scope member and the
--       posts channel, and KEYS holds its scope's keys after the queue's own (22 to 42).
-- Free messages claimed max claims times already move to the dead-letter queue here,
-- in the same script as the claim: never in both queues, never in neither. They do
-- not count against the limit. On a Redis Cluster the dead-letter queue's keys are in
-- another hash slot: KEYS holds the queue's own keys only, and dead letters go to its
-- DEAD_LETTERS outbox instead, in the same script; the driver moves them on
-- (dead_letters.py).
-- Returns {} when none is free; else the claim's id, state, body of each (flat), states
-- as updated: claimed, living at least until the claim ends plus the grace.
local claim_id, ttl, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
local max_claims = tonumber(ARGV[6])

local dead_ttl, dead_queue = tonumber(ARGV[7]), ARGV[8]

-- A dead letter's state in the dead-letter queue: free, claim count kept, living its
-- TTL (or its own) from now.
local function dead_letter_state(old)
    local expires = NOW + (dead_ttl or math.floor(old.e - old.c + 0.5))
    return {c = NOW, e = expires, v = 0, k = old.k, n = old.n, h = old.h}
end

-- Cluster: dead letters (out of FREE already, states decoded) into the outbox, keyed
-- by their id here, and out of the queue.
local function stash_dead_letters(dead, dead_states)
    local bodies = redis.call('HMGET', BODIES, unpack(dead))
    local stashed, last = {}, NOW
    for i, old in ipairs(dead_states) do
        local state = dead_letter_state(old)
        if state.e > last then last = state.e end
        stashed[2 * i - 1] = dead[i]
        stashed[2 * i] = cmsgpack.pack({d = dead_queue, b = bodies[i],
                                        s = cmsgpack.pack(state), e = state.e})
    end
    call_in_pieces('HSET', DEAD_LETTERS, stashed, 2)
    remove_messages(dead)
    keep_keys_alive({DEAD_LETTERS}, last)
end

-- Move messages (taken out of FREE already, states decoded) to the dead-letter queue,
-- under new ids there.
local function move_dead_letters(dead, dead_states)
    if KEYS[SCOPE_WIDTH + 1] == nil then return stash_dead_letters(dead, dead_states) end
    local function dead_key(index) return KEYS[SCOPE_WIDTH + index] end
    local D_IDS, D_MESSAGES, D_BODIES, D_STATES = dead_key(1), dead_key(2), dead_key(3),
        dead_key(4)
    local D_EXPIRIES, D_FREE = dead_key(5), dead_key(6)
    local D_NAMES, D_METADATA, D_SCOPES, D_FLOOR = dead_key(17), dead_key(18), dead_key(19),
        dead_key(20)
    local name, member, channel = dead_queue, ARGV[9], ARGV[10]
    if redis.call('HSETNX', D_METADATA, name, '{}') == 1 then
        redis.call('ZADD', D_NAMES, 0, name)
        redis.call('SADD', D_SCOPES, member)
    end
    local count = #dead
    local newest = redis.call('INCRBY', D_IDS, count)
    if newest == count then  -- its first message: go on from the floor, as post does
        local floor = tonumber(redis.call('GET', D_FLOOR) or '0')
        if floor > 0 then newest = redis.call('INCRBY', D_IDS, floor) end
    end
    local first = newest - count + 1
    local bodies = redis.call('HMGET', BODIES, unpack(dead))
    local states, stored, ordered, expiries = {}, {}, {}, {}
    local last = NOW
    for i, old in ipairs(dead_states) do
        local id = string.format('%d', first + i - 1)
        local state = dead_letter_state(old)
        local expires = state.e
        if expires > last then last = expires end
        states[2 * i - 1], states[2 * i] = id, cmsgpack.pack(state)
        stored[2 * i - 1], stored[2 * i] = id, bodies[i]
        ordered[2 * i - 1], ordered[2 * i] = id, id
        expiries[2 * i - 1], expiries[2 * i] = exact(expires), id
    end
    call_in_pieces('HSET', D_STATES, states, 2)
    call_in_pieces('HSET', D_BODIES, stored, 2)
    call_in_pieces('ZADD', D_MESSAGES, ordered, 2)
    call_in_pieces('ZADD', D_EXPIRIES, expiries, 2)
    call_in_pieces('ZADD', D_FREE, ordered, 2)
    remove_messages(dead)
    keep_keys_alive({D_MESSAGES, D_BODIES, D_STATES, D_EXPIRIES, D_FREE}, last)
    redis.call('PUBLISH', channel, member)
end

-- Free messages up to the limit; dead letters among them moved on the way.
local function take_claimable()
    if not max_claims then return take_free(limit) end
    local ids, states = {}, {}
    while #ids < limit do
        local found, found_states = take_free(limit - #ids)
        local dead, dead_states = {}, {}
        for i, id in ipairs(found) do
            if found_states[i].n >= max_claims then
                dead[#dead + 1], dead_states[#dead_states + 1] = id, found_states[i]
            else
                ids[#ids + 1], states[#states + 1] = id, found_states[i]
            end
        end
        if #dead == 0 then break end
        move_dead_letters(dead, dead_states)
    end
    return ids, states
end

local released = release_due()
local ids, states = take_claimable()
if #ids == 0 then
    -- Releasing may have made FREE anew: it needs its safety net all the same.
    if released then keep_messages_alive() end
    return {}
end

local claim_end = NOW + ttl
local life = claim_end + grace
local end_text, life_text = exact(claim_end), exact(life)
local last = life  -- the latest any message taken lives until
local stored, packed, claimed, extended = {}, {}, {}, {}
for i, id in ipairs(ids) do
    local state = states[i]
    state.ci, state.ce, state.n = claim_id, claim_end, state.n + 1
    if state.e < life then
        state.e = life
        extended[#extended + 1] = life_text
        extended[#extended + 1] = id
    elseif state.e > last then
        last = state.e
    end
    stored[i] = cmsgpack.pack(state)
    packed[2 * i - 1], packed[2 * i] = id, stored[i]
    claimed[2 * i - 1], claimed[2 * i] = end_text, id
end
call_in_pieces('HSET', STATES, packed, 2)
call_in_pieces('ZADD', EXPIRIES, extended, 2)
call_in_pieces('ZADD', CLAIMED, claimed, 2)
redis.call('HSET', CLAIMS, claim_id,
           cmsgpack.pack({t = ttl, g = grace, c = NOW, e = claim_end, m = ids}))
redis.call('ZADD', CLAIM_EXPIRIES, end_text, claim_id)
-- Messages released into FREE may live longer than any taken: then look it up.
if released then last = nil end
keep_messages_alive(last)
return message_triples(ids, stored)
