-- Renew a live claim from now, and the life of the messages it holds.
-- ARGV: now, claim id, ttl, grace. Returns 0 for a missing or expired claim, else 1.
local claim_id, ttl, grace = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local raw = redis.call('HGET', CLAIMS, claim_id)
if not raw then return 0 end
local claim = cmsgpack.unpack(raw)
if claim.e <= NOW then return 0 end

local claim_end = NOW + ttl
local life = claim_end + grace
claim.t, claim.g, claim.e = ttl, grace, claim_end
redis.call('HSET', CLAIMS, claim_id, cmsgpack.pack(claim))
redis.call('ZADD', CLAIM_EXPIRIES, claim_end, claim_id)
for _, id in ipairs(claim.m) do
    local state = load_state(id)
    if state ~= nil and state.ci == claim_id and claim_is_live(state) then
        state.ce = claim_end
        if state.e < life then
            state.e = life
            redis.call('ZADD', EXPIRIES, life, id)
        end
        save_state(id, state)
        redis.call('ZADD', CLAIMED, claim_end, id)
        redis.call('ZREM', FREE, id)
    end
end
keep_messages_alive()
return 1
