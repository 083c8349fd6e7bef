-- A live claim and the live messages it still holds.
-- ARGV: now, claim id. Returns false for a missing or expired claim; else the claim
-- record, then id, state, body of each message (flat).
local claim_id = ARGV[2]
local raw = redis.call('HGET', CLAIMS, claim_id)
if not raw then return false end
local claim = cmsgpack.unpack(raw)
if claim.e <= NOW then return false end
local held = {}
for _, id in ipairs(claim.m) do
    local state = load_state(id)
    if state ~= nil and state.ci == claim_id and claim_is_live(state) and state.e > NOW then
        held[#held + 1] = id
    end
end
local out = message_triples(held)
table.insert(out, 1, raw)
return out
