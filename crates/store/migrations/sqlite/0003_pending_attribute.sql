-- A new email or phone number held back until its verification code is redeemed
-- (the pool's AttributesRequireVerificationBeforeUpdate).
ALTER TABLE codes ADD COLUMN pending_value TEXT;
