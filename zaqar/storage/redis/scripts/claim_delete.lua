-- Release a claim: the messages it holds are free again. A missing claim is no error.
-- ARGV: now, claim id.
local claim_id = ARGV[2]
local raw = redis.call('HGET', CLAIMS, claim_id)
if not raw then return 0 end
for _, id in ipairs(cmsgpack.unpack(raw).m) do
    local state = load_state(id)
    if state ~= nil and state.ci == claim_id then
        state.ci, state.ce = nil, nil
        save_state(id, state)
        redis.call('ZREM', CLAIMED, id)
        redis.call('ZADD', FREE, tonumber(id), id)
    end
end
redis.call('HDEL', CLAIMS, claim_id)
redis.call('ZREM', CLAIM_EXPIRIES, claim_id)
keep_messages_alive()
return 1
