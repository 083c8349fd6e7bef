-- Live messages after a marker, in post order.
-- ARGV: now, client id, marker (a message id; '' for none), limit, echo,
--       include claimed, include delayed (the flags '1' or '0').
-- Returns id, state, body of each (flat).
local client_id, marker, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
local echo, include_claimed, include_delayed = ARGV[5] == '1', ARGV[6] == '1', ARGV[7] == '1'

local function wanted(state)
    return state.e > NOW
        and (echo or state.k ~= client_id)
        and (include_claimed or not claim_is_live(state))
        and (include_delayed or state.v <= NOW)
end

local found = {}
local after = '-inf'
if marker ~= '' then after = '(' .. marker end
while #found < limit do
    local ids = redis.call('ZRANGEBYSCORE', MESSAGES, after, '+inf', 'LIMIT', 0, BATCH)
    if #ids == 0 then break end
    local states = redis.call('HMGET', STATES, unpack(ids))
    for i, id in ipairs(ids) do
        if states[i] and wanted(cmsgpack.unpack(states[i])) then
            found[#found + 1] = id
            if #found == limit then break end
        end
    end
    after = '(' .. ids[#ids]
end
return message_triples(found)
