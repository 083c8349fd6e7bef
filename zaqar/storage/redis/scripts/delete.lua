-- Delete one message, honouring claims.
-- ARGV: now, message id, claim id ('' for none).
-- Returns 'ok', 'claimed' (held by a live claim, none given), 'not_claimed' (a claim
-- given, none holds it) or 'not_claimed_by' (another claim holds it).
local id, claim_id = ARGV[2], ARGV[3]
local state = load_state(id)
if state == nil then return 'ok' end
local claimed = claim_is_live(state)
if claim_id == '' then
    if claimed then return 'claimed' end
elseif not (claimed and state.ci == claim_id) then
    -- An expired message is already gone, whatever claim is given.
    if state.e <= NOW then return 'ok' end
    if claimed then return 'not_claimed_by' end
    return 'not_claimed'
end
remove_messages({id})
return 'ok'
