-- Delete many messages at once.
-- ARGV: now, number of claim ids (-1: no claim check), the claim ids, message ids.
-- With claim ids, every live message named must be held by a live claim among them, or
-- nothing is deleted: returns {'not_claimed', id} or {'not_claimed_by', id, holder}.
-- Otherwise deletes them all, claimed or not, and returns {'ok'}.
local claim_count = tonumber(ARGV[2])
local first_id = 3 + math.max(claim_count, 0)
local ids = {}
for i = first_id, #ARGV do ids[#ids + 1] = ARGV[i] end
if claim_count >= 0 and #ids > 0 then
    local allowed = {}
    for i = 3, first_id - 1 do allowed[ARGV[i]] = true end
    for start = 1, #ids, BATCH do
        local stop = math.min(start + BATCH - 1, #ids)
        local found = redis.call('HMGET', STATES, unpack(ids, start, stop))
        for i = start, stop do
            local raw = found[i - start + 1]
            local state = raw and cmsgpack.unpack(raw)
            if state and state.e > NOW then
                if not claim_is_live(state) then return {'not_claimed', ids[i]} end
                if not allowed[state.ci] then return {'not_claimed_by', ids[i], state.ci} end
            end
        end
    end
end
remove_messages(ids)
return {'ok'}
