-- Remove and return up to `limit` free messages, oldest first.
-- ARGV: now, limit. Returns id, state, body of each (flat).
local limit = tonumber(ARGV[2])
release_due()
local ids, _, states = take_free(limit)
local popped = message_triples(ids, states)
remove_messages(ids)
keep_messages_alive()
return popped
