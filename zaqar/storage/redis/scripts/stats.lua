-- Counts of a queue's live messages, and its oldest and newest.
-- ARGV: now. Returns {live, claimed, oldest id, state, body, newest id, state, body};
-- the message parts are absent when nothing is live.
-- A live claim ends before its messages do (ttl + grace), so every live claim in
-- CLAIMED holds a live message.
local live = redis.call('ZCOUNT', EXPIRIES, AFTER_NOW, '+inf')
local claimed = redis.call('ZCOUNT', CLAIMED, AFTER_NOW, '+inf')
if live == 0 then return {0, 0} end

-- Expired messages wait at either end for garbage collection: step over them.
local function first_live(reverse)
    local offset = 0
    while true do
        local ids
        if reverse then
            ids = redis.call('ZREVRANGE', MESSAGES, offset, offset + BATCH - 1)
        else
            ids = redis.call('ZRANGE', MESSAGES, offset, offset + BATCH - 1)
        end
        if #ids == 0 then return nil end
        local states = redis.call('HMGET', STATES, unpack(ids))
        for i, id in ipairs(ids) do
            if states[i] and cmsgpack.unpack(states[i]).e > NOW then return id end
        end
        offset = offset + #ids
    end
end

local out = {live, claimed}
for _, id in ipairs({first_live(false), first_live(true)}) do
    for _, part in ipairs(message_triples({id})) do out[#out + 1] = part end
end
return out
