-- Integrators (issue 16).

-- The signing scheme of an endpoint: v1 (HMAC-SHA256, secret whsec_) or
-- v1a (Ed25519, secret key whsk_). public_key is the whpk_ key a v1a
-- receiver verifies with; it is not secret, so listings may show it.
ALTER TABLE endpoints ADD COLUMN scheme TEXT NOT NULL DEFAULT 'v1' CHECK (scheme IN ('v1', 'v1a'));
ALTER TABLE endpoints ADD COLUMN public_key TEXT NOT NULL DEFAULT '';

-- A delivery to a URL that is no endpoint ("smista replay --to"): its
-- target. Empty for every delivery to an endpoint.
ALTER TABLE deliveries ADD COLUMN url TEXT NOT NULL DEFAULT '';
