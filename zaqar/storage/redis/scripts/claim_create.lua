-- Claim up to `limit` free messages, oldest first.
-- ARGV: now, claim id, ttl, grace, limit.
-- Returns {} when none is free; else the claim's id, state, body of each (flat), states
-- as updated: claimed, living at least until the claim ends plus the grace.
local claim_id, ttl, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local limit = tonumber(ARGV[5])

local released = release_due()
local ids, states = take_free(limit)
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
