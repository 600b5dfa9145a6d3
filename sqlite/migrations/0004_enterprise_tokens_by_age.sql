-- Migration 4: an API key's enterprise tokens indexed in the order they
-- were issued.
--
-- TrimEnterpriseTokens deletes a key's oldest tokens, by created_at and
-- then token_hash. The index on secret_id alone found a key's tokens but
-- left them to be sorted on every trim; with the creation order in it the
-- trim reads them in order, and deleting a key still finds its tokens
-- through it. It keeps its name: it is still the tokens by key.

DROP INDEX enterprise_tokens_key;
CREATE INDEX enterprise_tokens_key ON enterprise_tokens (secret_id, created_at, token_hash);
