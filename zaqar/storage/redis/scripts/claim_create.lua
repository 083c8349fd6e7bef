-- Claim up to `limit` free messages, oldest first.
-- ARGV: now, claim id, ttl, grace, limit.
-- Returns {} when none is free; else the claim's id, state, body of each (flat), states
-- as updated: claimed, living at least until the claim ends plus the grace.
local claim_id, ttl, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local limit = tonumber(ARGV[5])

release_due()
local ids = take_free(limit)
if #ids == 0 then return {} end

local claim_end = NOW + ttl
local life = claim_end + grace
for _, id in ipairs(ids) do
    local state = load_state(id)
    state.ci, state.ce, state.n = claim_id, claim_end, state.n + 1
    if state.e < life then
        state.e = life
        redis.call('ZADD', EXPIRIES, life, id)
    end
    save_state(id, state)
    redis.call('ZADD', CLAIMED, claim_end, id)
end
redis.call('HSET', CLAIMS, claim_id,
           cmsgpack.pack({t = ttl, g = grace, c = NOW, e = claim_end, m = ids}))
redis.call('ZADD', CLAIM_EXPIRIES, claim_end, claim_id)
keep_messages_alive()
return message_triples(ids)
